const { KeyStore } = require('@minidriver/keystore');

(async () => {
  const store = await KeyStore.open(); // every PC/SC reader; plugins from this app's package.json
  const token = await store.waitForToken({ timeoutMs: 30_000 }); // the first reader with a card
  await token.login('user', process.env.PIN);
  const data = new TextEncoder().encode(process.argv[2] ?? 'hello');
  for (const key of await token.keys()) {
    const about = `${key.id} ${key.algorithm.type}${key.algorithm.bits} ${key.usages.join('+')}`;
    const signature = key.usages.includes('sign') ? await key.sign(data, { hash: 'sha256' }) : undefined;
    console.log(about, signature ? Buffer.from(signature).toString('base64') : '-');
  }
  await store.close();
})();

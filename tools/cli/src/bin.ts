console.log('minidriver');

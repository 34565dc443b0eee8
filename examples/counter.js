// The roadmap's counter: one number in storage under the key "count".

export function increment() {
  const count = parseInt(near.storageRead('count') || '0');
  near.storageWrite('count', (count + 1).toString());
  near.log(`Counter incremented to ${count + 1}`);
  return count + 1;
}

export function decrement() {
  const count = parseInt(near.storageRead('count') || '0');
  near.storageWrite('count', (count - 1).toString());
  near.log(`Counter decremented to ${count - 1}`);
  return count - 1;
}

// A view: reads only, so `outlayer view` can call it.
export function get_count() {
  return parseInt(near.storageRead('count') || '0');
}

export function reset() {
  near.storageWrite('count', '0');
  near.log('Counter reset to 0');
  return 0;
}

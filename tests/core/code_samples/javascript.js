// Small function utilities for event handlers.
// Released under the MIT license.

var VERSION = '1.4.2';

// Returns a function that runs `func` only after `wait` ms without calls.
// With `immediate`, it runs on the leading edge instead.
function debounce(func, wait, immediate) {
  var timeout, result;
  var later = function(context, args) {
    timeout = null;
    if (args) result = func.apply(context, args);
  };
  return function() {
    var callNow = immediate && !timeout;
    if (timeout) clearTimeout(timeout);
    if (callNow) {
      result = func.apply(this, arguments);
    } else {
      timeout = setTimeout(later, wait);
    }
    return result;
  };
}

// Returns a function that runs `func` at most once per `wait` ms.
function throttle(func, wait) {
  var previous = 0;
  return function() {
    var now = Date.now();
    if (now - previous >= wait) {
      previous = now;
      return func.apply(this, arguments);
    }
  };
}

class Queue {
  constructor() {
    this.items = [];
    this.listeners = new Set();
  }

  enqueue(item) {
    this.items.push(item);
    for (const listener of this.listeners) {
      listener(item);
    }
  }

  get size() {
    return this.items.length;
  }
}

module.exports = { debounce, throttle, Queue, VERSION };

// Shopping cart helpers.

function cartTotal(items) {
  let total = 0;
  for (const item of items) {
    total += 
  }
  return total;
}

module.exports = { cartTotal };

'use strict';
// The fixed variant's input rules. They match the constraints openapi.js
// documents, so a request the document allows is accepted and one it
// forbids is answered 400.

// ORDER_FIELDS are the order fields a client may write; id, owner_id and
// created_at are the server's.
const ORDER_FIELDS = ['product_id', 'quantity', 'note', 'email', 'delivery_date', 'status'];
const ORDER_STATUSES = ['pending', 'shipped', 'cancelled'];
const QUANTITY_MIN = 1;
const QUANTITY_MAX = 100;
const NOTE_MAX = 500;
const EMAIL_MAX = 254;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// isDate accepts a real calendar date written YYYY-MM-DD.
function isDate(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) {
    return false;
  }
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 &&
    d.getUTCDate() === Number(m[3]);
}

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// checkOrder validates a create (partial false: product_id and quantity
// required) or an update body. It returns the writable fields it found and
// one message per problem; fields it does not know are ignored.
function checkOrder(body, partial, productExists) {
  if (!isObject(body)) {
    return { fields: {}, errors: ['body must be a JSON object'] };
  }
  const errors = [];
  const fields = {};
  const rules = {
    product_id: (v) => (Number.isInteger(v) && productExists(v) ? null : 'product_id must be the id of a product'),
    quantity: (v) => (Number.isInteger(v) && v >= QUANTITY_MIN && v <= QUANTITY_MAX
      ? null : `quantity must be an integer from ${QUANTITY_MIN} to ${QUANTITY_MAX}`),
    note: (v) => (typeof v === 'string' && v.length <= NOTE_MAX ? null : `note must be a string of at most ${NOTE_MAX} characters`),
    email: (v) => (typeof v === 'string' && v.length <= EMAIL_MAX && EMAIL.test(v) ? null : 'email must be an email address'),
    delivery_date: (v) => (typeof v === 'string' && isDate(v) ? null : 'delivery_date must be a date (YYYY-MM-DD)'),
    status: (v) => (ORDER_STATUSES.includes(v) ? null : `status must be one of ${ORDER_STATUSES.join(', ')}`),
  };
  for (const k of ORDER_FIELDS) {
    if (!(k in body)) {
      if (!partial && (k === 'product_id' || k === 'quantity')) {
        errors.push(`${k} is required`);
      }
      continue;
    }
    const problem = rules[k](body[k]);
    if (problem) {
      errors.push(problem);
    } else {
      fields[k] = body[k];
    }
  }
  return { fields, errors };
}

// checkProduct validates a product update (admins only, fixed variant).
function checkProduct(body) {
  if (!isObject(body)) {
    return { fields: {}, errors: ['body must be a JSON object'] };
  }
  const errors = [];
  const fields = {};
  if ('name' in body) {
    if (typeof body.name === 'string' && body.name.length >= 1 && body.name.length <= 100) {
      fields.name = body.name;
    } else {
      errors.push('name must be a string of 1 to 100 characters');
    }
  }
  if ('price' in body) {
    if (typeof body.price === 'number' && Number.isFinite(body.price) && body.price >= 0 && body.price <= 1e6) {
      fields.price = body.price;
    } else {
      errors.push('price must be a number from 0 to 1000000');
    }
  }
  if ('description' in body) {
    if (typeof body.description === 'string' && body.description.length <= 1000) {
      fields.description = body.description;
    } else {
      errors.push('description must be a string of at most 1000 characters');
    }
  }
  return { fields, errors };
}

module.exports = {
  checkOrder, checkProduct, isDate, ORDER_FIELDS, ORDER_STATUSES,
  QUANTITY_MIN, QUANTITY_MAX, NOTE_MAX, EMAIL_MAX,
};

'use strict';
// The in-memory data both variants start from. Every start builds a fresh
// copy, so each test sees the same seeded users, orders and products.

const crypto = require('node:crypto');

// hashPassword is a salted SHA-256: good enough for a testbed that must
// check passwords, and visibly a hash when the vulnerable variant leaks it.
function hashPassword(password, salt = crypto.randomBytes(8).toString('hex')) {
  const digest = crypto.createHash('sha256').update(salt + ':' + password).digest('hex');
  return `sha256$${salt}$${digest}`;
}

function passwordMatches(stored, password) {
  const salt = stored.split('$')[1];
  const want = Buffer.from(stored);
  const got = Buffer.from(hashPassword(password, salt));
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

function seed() {
  const users = [
    { id: 1, username: 'alice', role: 'user', password: 'alice-pw', email: 'alice@example.com',
      full_name: 'Alice Archer', phone: '+1-555-0101', ssn: '078-05-1120', address: '1 Elm Street' },
    { id: 2, username: 'bob', role: 'user', password: 'bob-pw', email: 'bob@example.com',
      full_name: 'Bob Baker', phone: '+1-555-0102', ssn: '219-09-9999', address: '2 Oak Avenue' },
    { id: 3, username: 'admin', role: 'admin', password: 'admin-pw', email: 'admin@example.com',
      full_name: 'Ada Admin', phone: '+1-555-0103', ssn: '457-55-5462', address: '3 Pine Road' },
  ].map(({ password, ...u }) => ({ ...u, password_hash: hashPassword(password) }));

  const products = [
    { id: 1, name: 'Widget', price: 9.99, description: 'A small widget.' },
    { id: 2, name: 'Gadget', price: 24.5, description: 'A useful gadget.' },
    { id: 3, name: 'Gizmo', price: 99, description: 'A large gizmo.' },
  ];

  const created = '2024-01-15T10:00:00.000Z';
  const orders = [
    { owner_id: 1, product_id: 1, quantity: 2, note: 'Leave at the door', email: 'alice@example.com',
      delivery_date: '2024-02-01', status: 'pending' },
    { owner_id: 1, product_id: 3, quantity: 1, note: '', email: 'alice@example.com',
      delivery_date: '2024-02-03', status: 'shipped' },
    { owner_id: 2, product_id: 2, quantity: 5, note: 'Gift wrap, please', email: 'bob@example.com',
      delivery_date: '2024-02-05', status: 'pending' },
    { owner_id: 2, product_id: 1, quantity: 1, note: '', email: 'bob@example.com',
      delivery_date: '2024-02-07', status: 'cancelled' },
    { owner_id: 3, product_id: 2, quantity: 3, note: 'Office supplies', email: 'admin@example.com',
      delivery_date: '2024-02-09', status: 'pending' },
  ].map((o, i) => ({ id: i + 1, ...o, created_at: created }));

  return { users, products, orders, nextOrderID: orders.length + 1 };
}

// profile is the part of a user /users/{id}/profile shows: personal data,
// which is why reading another user's profile matters.
function profile(u) {
  return {
    id: u.id, username: u.username, email: u.email, full_name: u.full_name,
    phone: u.phone, address: u.address,
  };
}

// summary is what /me and /admin/users show about a user.
function summary(u) {
  return { id: u.id, username: u.username, role: u.role, email: u.email };
}

module.exports = { seed, hashPassword, passwordMatches, profile, summary };

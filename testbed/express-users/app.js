'use strict';
// Merlon's multi-user testbed: an order API with JWT login, in one of three
// variants picked by MERLON_VARIANT (see README.md for the exact weaknesses).
//
//   vulnerable  BOLA, BFLA, weak and unexpiring JWTs that also pass with
//               alg=none, anonymous access to a secured list, no login
//               throttling, no input validation, stack traces on bad JSON
//   unverified  as vulnerable, but HMAC signatures are not checked at all,
//               so a tampered payload passes
//   fixed       the clean twin
//
// PORT picks the port (127.0.0.1 only); JWT_SECRET, at least 32 characters,
// is the fixed variant's signing key (random when unset).

const crypto = require('node:crypto');
const express = require('express');
const jwt = require('jsonwebtoken');
const store = require('./store');
const { openapi } = require('./openapi');
const { checkOrder, checkProduct, ORDER_FIELDS } = require('./validate');

const VARIANTS = ['vulnerable', 'unverified', 'fixed'];

// WEAK_SECRET is the vulnerable variants' HMAC key: a word every JWT
// secret wordlist starts with.
const WEAK_SECRET = 'secret';

// TOKEN_TTL is how long the fixed variant's tokens live, in seconds.
const TOKEN_TTL = 15 * 60;

// Login throttling in the fixed variant: this many failures for one
// username within the window lock that username until the window moves on.
const LOGIN_MAX_FAILURES = 5;
const LOGIN_WINDOW_MS = 60 * 1000;

function fail(message) {
  process.stderr.write(message + '\n');
  process.exit(2);
}

const variant = process.env.MERLON_VARIANT || '';
if (!VARIANTS.includes(variant)) {
  fail(`unknown MERLON_VARIANT ${JSON.stringify(variant)}; want one of ${VARIANTS.join(', ')}`);
}
const fixed = variant === 'fixed';
const port = Number(process.env.PORT || 3000);

let secret = WEAK_SECRET;
if (fixed) {
  secret = process.env.JWT_SECRET || crypto.randomBytes(32).toString('hex');
  if (secret.length < 32) {
    fail('JWT_SECRET must be at least 32 characters');
  }
}

const db = store.seed();
const findUser = (id) => db.users.find((u) => u.id === id);
const findOrder = (id) => db.orders.find((o) => o.id === id);
const findProduct = (id) => db.products.find((p) => p.id === id);

// pathID parses an integer path parameter, or returns NaN.
function pathID(s) {
  return /^[0-9]{1,9}$/.test(s) ? Number(s) : NaN;
}

function issueToken(user) {
  if (fixed) {
    return jwt.sign({ sub: String(user.id), role: user.role }, secret,
      { algorithm: 'HS256', expiresIn: TOKEN_TTL, noTimestamp: true });
  }
  // No exp, and far more than an access token needs.
  return jwt.sign({
    sub: String(user.id), username: user.username, role: user.role,
    email: user.email, password_hash: user.password_hash, ssn: user.ssn,
  }, secret, { algorithm: 'HS256' });
}

// verifyToken returns the claims of a token this variant accepts, or null.
function verifyToken(token) {
  if (fixed) {
    try {
      const claims = jwt.verify(token, secret, { algorithms: ['HS256'] });
      return typeof claims.exp === 'number' ? claims : null;
    } catch {
      return null;
    }
  }
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null) {
    return null;
  }
  const alg = String(decoded.header.alg || '');
  if (alg.toLowerCase() === 'none' || variant === 'unverified') {
    return decoded.payload;
  }
  try {
    return jwt.verify(token, secret, { algorithms: ['HS256', 'HS384', 'HS512'], ignoreExpiration: true });
  } catch {
    return null;
  }
}

// authenticate resolves the bearer token to {user, role}, or null. The
// role comes from the token, so a forged token can claim admin.
function authenticate(req) {
  const m = /^Bearer\s+(\S+)$/i.exec(req.get('Authorization') || '');
  if (!m) {
    return null;
  }
  const claims = verifyToken(m[1]);
  if (!claims) {
    return null;
  }
  const user = findUser(pathID(String(claims.sub)));
  if (!user) {
    return null;
  }
  return { user, role: fixed ? user.role : String(claims.role || user.role) };
}

function unauthorized(res) {
  res.set('WWW-Authenticate', 'Bearer');
  return res.status(401).json({ error: 'authentication required' });
}

function requireAuth(req, res, next) {
  req.auth = authenticate(req);
  if (!req.auth) {
    return unauthorized(res);
  }
  return next();
}

// requireAdmin lets every authenticated caller through in the vulnerable
// variants: the admin functions check the token, never the role.
function requireAdmin(req, res, next) {
  if (fixed && req.auth.role !== 'admin') {
    return res.status(403).json({ error: 'admin role required' });
  }
  return next();
}

// mayAccess says whether the caller may see or change an object owned by
// ownerID: anyone signed in, or in the fixed variant the owner or an admin.
function mayAccess(auth, ownerID) {
  return !fixed || auth.role === 'admin' || auth.user.id === ownerID;
}

const app = express();
// The environment decides whether Express's own error page shows stacks.
app.set('env', fixed ? 'production' : 'development');
if (fixed) {
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    res.set('Cache-Control', 'no-store');
    next();
  });
}
app.use(express.json({ limit: '1mb' }));

app.get('/health', (req, res) => res.json({ status: 'ok', variant }));

app.get('/openapi.json', (req, res) => res.json(openapi(variant)));

const failures = new Map(); // username -> failure times in ms, oldest first

app.post('/login', (req, res) => {
  const body = req.body || {};
  const { username, password } = body;
  if (fixed && (typeof username !== 'string' || typeof password !== 'string')) {
    return res.status(400).json({ error: 'username and password must be strings' });
  }
  if (fixed) {
    const now = Date.now();
    const recent = (failures.get(username) || []).filter((t) => now - t < LOGIN_WINDOW_MS);
    failures.set(username, recent);
    if (recent.length >= LOGIN_MAX_FAILURES) {
      const wait = Math.ceil((recent[0] + LOGIN_WINDOW_MS - now) / 1000);
      res.set('Retry-After', String(Math.max(wait, 1)));
      return res.status(429).json({ error: 'too many failed logins; try again later' });
    }
  }
  const user = db.users.find((u) => u.username === username);
  if (!user || typeof password !== 'string' || !store.passwordMatches(user.password_hash, password)) {
    if (fixed) {
      failures.get(username).push(Date.now());
    }
    return res.status(401).json({ error: 'invalid username or password' });
  }
  const out = { access_token: issueToken(user), token_type: 'Bearer' };
  if (fixed) {
    out.expires_in = TOKEN_TTL;
  }
  return res.json(out);
});

app.get('/me', requireAuth, (req, res) => res.json(store.summary(req.auth.user)));

app.get('/users/:id/profile', requireAuth, (req, res) => {
  const user = findUser(pathID(req.params.id));
  if (fixed && !mayAccess(req.auth, pathID(req.params.id))) {
    return res.status(403).json({ error: 'not your profile' });
  }
  if (!user) {
    return res.status(404).json({ error: 'user not found' });
  }
  return res.json(store.profile(user));
});

app.get('/orders', (req, res) => {
  const auth = authenticate(req);
  if (!auth) {
    if (fixed) {
      return unauthorized(res);
    }
    // Meant to require a token; without one it lists everybody's orders.
    return res.json({ orders: db.orders });
  }
  const mine = auth.role === 'admin' && fixed ? db.orders : db.orders.filter((o) => o.owner_id === auth.user.id);
  return res.json({ orders: mine });
});

// loadOrder finds the order in the path that the caller may touch, or
// answers 404 itself: the fixed variant does not tell others' orders from
// missing ones.
function loadOrder(req, res, next) {
  const order = findOrder(pathID(req.params.id));
  if (!order || !mayAccess(req.auth, order.owner_id)) {
    return res.status(404).json({ error: 'order not found' });
  }
  req.order = order;
  return next();
}

// orderInput returns the fields to write from a request body, or answers
// 400 itself. The vulnerable variants copy the writable fields whatever
// their type or value.
function orderInput(req, res, partial) {
  if (!fixed) {
    const out = {};
    for (const k of ORDER_FIELDS) {
      if (k in req.body) {
        out[k] = req.body[k];
      }
    }
    return out;
  }
  const { fields, errors } = checkOrder(req.body, partial, (id) => Boolean(findProduct(id)));
  if (errors.length > 0) {
    res.status(400).json({ error: 'invalid order', details: errors });
    return null;
  }
  return fields;
}

app.post('/orders', requireAuth, (req, res) => {
  const fields = orderInput(req, res, false);
  if (!fields) {
    return undefined;
  }
  const order = {
    id: db.nextOrderID++, owner_id: req.auth.user.id, product_id: null, quantity: 1, note: '',
    email: req.auth.user.email, delivery_date: null, status: 'pending',
    ...fields, created_at: new Date().toISOString(),
  };
  db.orders.push(order);
  return res.status(201).location(`/orders/${order.id}`).json(order);
});

app.get('/orders/:id', requireAuth, loadOrder, (req, res) => res.json(req.order));

app.patch('/orders/:id', requireAuth, loadOrder, (req, res) => {
  const fields = orderInput(req, res, true);
  if (!fields) {
    return undefined;
  }
  Object.assign(req.order, fields);
  return res.json(req.order);
});

app.delete('/orders/:id', requireAuth, loadOrder, (req, res) => {
  db.orders.splice(db.orders.indexOf(req.order), 1);
  return res.status(204).end();
});

app.get('/products', (req, res) => res.json({ products: db.products }));

app.get('/products/:id', (req, res) => {
  const product = findProduct(pathID(req.params.id));
  if (!product) {
    return res.status(404).json({ error: 'product not found' });
  }
  return res.json(product);
});

// PUT /products/{id} is not in the OpenAPI document. The fixed variant
// keeps it for admins; the vulnerable ones let anybody, even without a
// token, rewrite a product.
const productWriteGuards = fixed ? [requireAuth, requireAdmin] : [];
app.put('/products/:id', ...productWriteGuards, (req, res) => {
  const product = findProduct(pathID(req.params.id));
  if (!product) {
    return res.status(404).json({ error: 'product not found' });
  }
  let fields = req.body || {};
  if (fixed) {
    const { fields: ok, errors } = checkProduct(req.body);
    if (errors.length > 0) {
      return res.status(400).json({ error: 'invalid product', details: errors });
    }
    fields = ok;
  }
  for (const k of ['name', 'price', 'description']) {
    if (k in fields) {
      product[k] = fields[k];
    }
  }
  return res.json(product);
});

app.get('/admin/users', requireAuth, requireAdmin, (req, res) => {
  res.json({ users: db.users.map(store.summary) });
});

app.delete('/admin/users/:id', requireAuth, requireAdmin, (req, res) => {
  const user = findUser(pathID(req.params.id));
  if (!user) {
    return res.status(404).json({ error: 'user not found' });
  }
  db.users.splice(db.users.indexOf(user), 1);
  return res.status(204).end();
});

if (fixed) {
  app.use((req, res) => res.status(404).json({ error: 'not found' }));
  // Errors become short JSON: the client's fault keeps its 4xx status and
  // a fixed message, anything else is a bare 500. No stack, no internals.
  app.use((err, req, res, next) => { // eslint-disable-line no-unused-vars
    const status = Number.isInteger(err.status) && err.status >= 400 && err.status < 500 ? err.status : 500;
    const messages = {
      'entity.parse.failed': 'request body is not valid JSON',
      'entity.too.large': 'request body is too large',
    };
    res.status(status).json({ error: messages[err.type] || (status === 500 ? 'internal error' : 'bad request') });
  });
} else {
  // Every error, bad JSON included, goes to Express's own handler as a
  // 500, which in development prints the stack as HTML.
  app.use((err, req, res, next) => {
    err.status = 500;
    err.statusCode = 500;
    next(err);
  });
}

const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(`express-users ${variant} listening on 127.0.0.1:${port}\n`);
});
server.on('error', (err) => fail(`listen on 127.0.0.1:${port}: ${err.message}`));

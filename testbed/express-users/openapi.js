'use strict';
// The OpenAPI 3.0 document each variant serves at /openapi.json. Both
// describe the intended contract (who may call what, which values are
// valid); the vulnerable variants simply do not enforce it, and their
// documents do not promise the 400 and 429 answers only the fixed variant
// gives. PUT /products/{id} is left out on purpose: it is found by trying
// other methods on a documented path.

const v = require('./validate');

const bearer = [{ bearerAuth: [] }];
const json = (schema, example) => ({ 'application/json': example === undefined ? { schema } : { schema, example } });
const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
const reply = (description, schema, example) => (schema ? { description, content: json(schema, example) } : { description });
const idParam = (description) => ({
  name: 'id', in: 'path', required: true, description, schema: { type: 'integer', minimum: 1 }, example: 1,
});

function writableOrderProperties() {
  return {
    product_id: { type: 'integer', minimum: 1, description: 'The id of a product.', example: 2 },
    quantity: { type: 'integer', minimum: v.QUANTITY_MIN, maximum: v.QUANTITY_MAX, example: 3 },
    note: { type: 'string', maxLength: v.NOTE_MAX, example: 'Ring twice' },
    email: { type: 'string', format: 'email', maxLength: v.EMAIL_MAX, example: 'alice@example.com' },
    delivery_date: { type: 'string', format: 'date', nullable: true, example: '2024-03-01' },
    status: { type: 'string', enum: v.ORDER_STATUSES, example: 'pending' },
  };
}

function openapi(variant) {
  const fixed = variant === 'fixed';
  const err = ref('Error');
  const errorExample = { error: 'authentication required' };
  const unauthorized = reply('No valid bearer token.', err, errorExample);
  const badRequest = fixed ? { 400: reply('The body breaks the schema.', ref('ValidationError')) } : {};

  const token = {
    type: 'object',
    required: ['access_token'],
    properties: {
      access_token: { type: 'string', description: 'A JWT to send as Authorization: Bearer.' },
      token_type: { type: 'string', example: 'Bearer' },
    },
  };
  if (fixed) {
    token.properties.expires_in = { type: 'integer', description: 'Seconds the token stays valid.', example: 900 };
  }
  const loginResponses = {
    200: reply('Signed in.', ref('Token')),
    401: reply('Wrong username or password.', err, { error: 'invalid username or password' }),
  };
  if (fixed) {
    Object.assign(loginResponses, {
      400: reply('username or password missing or not a string.', err),
      429: {
        description: 'Too many failed logins for this username; wait Retry-After seconds.',
        headers: { 'Retry-After': { schema: { type: 'integer' } } },
        content: json(err),
      },
    });
  }

  const orderExample = {
    id: 1, owner_id: 1, product_id: 1, quantity: 2, note: 'Leave at the door', email: 'alice@example.com',
    delivery_date: '2024-02-01', status: 'pending', created_at: '2024-01-15T10:00:00.000Z',
  };

  return {
    openapi: '3.0.3',
    info: {
      title: 'Merlon express-users testbed',
      version: '1.0.0',
      description: `Orders, products and users behind JWT login (variant ${variant}).`,
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'auth', description: 'Signing in.' },
      { name: 'users', description: 'The caller and user profiles.' },
      { name: 'orders', description: 'Orders; each belongs to the user who placed it.' },
      { name: 'products', description: 'The public catalogue.' },
      { name: 'admin', description: 'Administration; admins only.' },
    ],
    paths: {
      '/health': {
        get: { operationId: 'health', tags: ['meta'], security: [], summary: 'Liveness',
          responses: { 200: reply('Up.', { type: 'object', properties: { status: { type: 'string' } } }) } },
      },
      '/login': {
        post: {
          operationId: 'login', tags: ['auth'], security: [], summary: 'Exchange a username and password for a JWT',
          requestBody: { required: true, content: json(ref('LoginRequest'), { username: 'alice', password: 'your-password' }) },
          responses: loginResponses,
        },
      },
      '/me': {
        get: { operationId: 'getMe', tags: ['users'], security: bearer, summary: 'The signed-in user',
          responses: { 200: reply('The caller.', ref('UserSummary')), 401: unauthorized } },
      },
      '/users/{id}/profile': {
        get: {
          operationId: 'getUserProfile', tags: ['users'], security: bearer,
          summary: "A user's profile: the user's own, or any for admins",
          parameters: [idParam('User id.')],
          responses: {
            200: reply('The profile.', ref('Profile')), 401: unauthorized,
            403: reply('Not your profile.', err), 404: reply('No such user.', err),
          },
        },
      },
      '/orders': {
        get: {
          operationId: 'listOrders', tags: ['orders'], security: bearer, summary: "The caller's orders (all of them for admins)",
          responses: {
            200: reply('Orders.', { type: 'object', properties: { orders: { type: 'array', items: ref('Order') } } }),
            401: unauthorized,
          },
        },
        post: {
          operationId: 'createOrder', tags: ['orders'], security: bearer, summary: 'Place an order',
          requestBody: { required: true, content: json(ref('OrderCreate'), { product_id: 2, quantity: 3, note: 'Ring twice' }) },
          responses: { 201: reply('Placed.', ref('Order'), orderExample), ...badRequest, 401: unauthorized },
        },
      },
      '/orders/{id}': {
        parameters: [idParam('Order id.')],
        get: {
          operationId: 'getOrder', tags: ['orders'], security: bearer, summary: 'One of your orders',
          responses: { 200: reply('The order.', ref('Order'), orderExample), 401: unauthorized, 404: reply('No such order of yours.', err) },
        },
        patch: {
          operationId: 'updateOrder', tags: ['orders'], security: bearer, summary: 'Change one of your orders',
          requestBody: { required: true, content: json(ref('OrderUpdate'), { quantity: 4, status: 'cancelled' }) },
          responses: {
            200: reply('Updated.', ref('Order'), orderExample), ...badRequest, 401: unauthorized,
            404: reply('No such order of yours.', err),
          },
        },
        delete: {
          operationId: 'deleteOrder', tags: ['orders'], security: bearer, summary: 'Delete one of your orders',
          responses: { 204: { description: 'Deleted.' }, 401: unauthorized, 404: reply('No such order of yours.', err) },
        },
      },
      '/products': {
        get: { operationId: 'listProducts', tags: ['products'], security: [], summary: 'The catalogue',
          responses: { 200: reply('Products.', { type: 'object', properties: { products: { type: 'array', items: ref('Product') } } }) } },
      },
      '/products/{id}': {
        get: {
          operationId: 'getProduct', tags: ['products'], security: [], summary: 'One product; the same for everybody',
          parameters: [idParam('Product id.')],
          responses: { 200: reply('The product.', ref('Product')), 404: reply('No such product.', err) },
        },
      },
      '/admin/users': {
        get: {
          operationId: 'adminListUsers', tags: ['admin'], security: bearer, summary: 'Every user account (admins only)',
          responses: {
            200: reply('Users.', { type: 'object', properties: { users: { type: 'array', items: ref('UserSummary') } } }),
            401: unauthorized, 403: reply('Not an admin.', err, { error: 'admin role required' }),
          },
        },
      },
      '/admin/users/{id}': {
        delete: {
          operationId: 'adminDeleteUser', tags: ['admin'], security: bearer, summary: 'Delete a user account (admins only)',
          parameters: [idParam('User id.')],
          responses: {
            204: { description: 'Deleted.' }, 401: unauthorized,
            403: reply('Not an admin.', err, { error: 'admin role required' }), 404: reply('No such user.', err),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access_token from POST /login.' },
      },
      schemas: {
        Error: { type: 'object', properties: { error: { type: 'string' } } },
        ValidationError: {
          type: 'object',
          properties: { error: { type: 'string' }, details: { type: 'array', items: { type: 'string' } } },
        },
        LoginRequest: {
          type: 'object', required: ['username', 'password'],
          properties: {
            username: { type: 'string', example: 'alice' },
            password: { type: 'string', format: 'password', example: 'your-password' },
          },
        },
        Token: token,
        UserSummary: {
          type: 'object',
          properties: {
            id: { type: 'integer', readOnly: true, example: 1 },
            username: { type: 'string', readOnly: true, example: 'alice' },
            role: { type: 'string', enum: ['user', 'admin'], readOnly: true, example: 'user' },
            email: { type: 'string', format: 'email', readOnly: true, example: 'alice@example.com' },
          },
        },
        Profile: {
          type: 'object',
          properties: {
            id: { type: 'integer', readOnly: true, example: 1 },
            username: { type: 'string', readOnly: true, example: 'alice' },
            email: { type: 'string', format: 'email', example: 'alice@example.com' },
            full_name: { type: 'string', example: 'Alice Archer' },
            phone: { type: 'string', example: '+1-555-0101' },
            address: { type: 'string', example: '1 Elm Street' },
          },
        },
        Product: {
          type: 'object',
          properties: {
            id: { type: 'integer', readOnly: true, example: 1 },
            name: { type: 'string', maxLength: 100, example: 'Widget' },
            price: { type: 'number', minimum: 0, example: 9.99 },
            description: { type: 'string', maxLength: 1000, example: 'A small widget.' },
          },
        },
        Order: {
          type: 'object',
          properties: {
            id: { type: 'integer', readOnly: true, example: 1 },
            owner_id: { type: 'integer', readOnly: true, description: 'The user who placed the order.', example: 1 },
            ...writableOrderProperties(),
            created_at: { type: 'string', format: 'date-time', readOnly: true },
          },
        },
        OrderCreate: { type: 'object', required: ['product_id', 'quantity'], properties: writableOrderProperties() },
        OrderUpdate: { type: 'object', minProperties: 1, properties: writableOrderProperties() },
      },
    },
  };
}

module.exports = { openapi };

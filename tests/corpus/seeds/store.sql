-- Seed for store.prisma. Ids are explicit so expected results are stable; sequences are
-- moved past them at the end so creates get fresh ids.
INSERT INTO "accounts" ("id", "email", "name", "role", "balance", "visits", "score", "active", "avatar", "settings", "tags", "created_at", "manager_id") VALUES
  (1, 'ada@example.com',   'Ada Lovelace',  'ADMIN',  '1250.50', 9007199254740993, 9.5,  true,  '\x0102ff', '{"theme": "dark", "lang": "en", "notifications": {"email": true, "sms": false}, "limits": [1, 2, 3]}', '{admin,founder}', '2024-01-01 09:00:00', NULL),
  (2, 'bob@example.com',   'Bob Builder',   'member', '10.00',   42,               7.25, true,  NULL,       '{"theme": "light", "lang": "fr", "notifications": {"email": false}}',                          '{builder}',       '2024-02-15 12:30:00', 1),
  (3, 'cleo@example.com',  NULL,            'member', '0.00',    0,                NULL, false, NULL,       NULL,                                                                                    '{}',              '2024-03-10 08:15:30.250', 1),
  (4, 'dan@example.org',   'Dan 50% off',   'GUEST',  '-5.25',   7,                3,    true,  '\x00',     '{"theme": "dark", "lang": "de", "beta": null}',                                         '{guest,beta}',    '2024-03-10 08:15:30.250', 2),
  (5, 'eve_x@example.org', 'Eve',           'member', '99999.99', 1,               1e10, true,  NULL,       '{"lang": "en", "limits": [5]}',                                                         '{beta}',          '2024-06-30 23:59:59.999', 2),
  (6, 'FRANK@example.com', 'frank',         'GUEST',  '0.01',    100,              -2.5, true,  NULL,       '[1, 2]',                                                                                '{}',              '2025-01-01 00:00:00', NULL);
SELECT setval(pg_get_serial_sequence('"accounts"', 'id'), 100);

INSERT INTO "Profile" ("id", "bio", "website", "accountId") VALUES
  (1, 'First programmer', 'https://ada.example.com', 1),
  (2, 'Can we fix it?',   NULL,                       2),
  (3, 'Guest writer',     'https://dan.example.org',  4);
SELECT setval(pg_get_serial_sequence('"Profile"', 'id'), 100);

INSERT INTO "_Follows" ("A", "B") VALUES (1, 2), (1, 3), (2, 1), (4, 1), (5, 1), (5, 2);

INSERT INTO "Category" ("id", "name", "slug", "parentId") VALUES
  (1, 'Hardware',    'hardware', NULL),
  (2, 'Tools',       'tools',    1),
  (3, 'Fasteners',   'fasteners', 1),
  (4, 'Software',    'software', NULL),
  (5, 'Power Tools', 'power-tools', 2);
SELECT setval(pg_get_serial_sequence('"Category"', 'id'), 100);

INSERT INTO "Product" ("id", "sku", "name", "description", "price", "stock", "status", "attributes", "weight", "releasedAt") VALUES
  (1, 'HAM-001', 'Hammer',          'A sturdy claw hammer',        '19.99',  120, 'ACTIVE',   '{"color": "red", "size": 16, "tags": ["steel", "classic"]}',   0.6,  '2023-05-01 10:00:00+00'),
  (2, 'SCR-100', 'Screws (100)',    'Wood screws, 100_pack',       '4.50',   1000, 'ACTIVE',  '{"color": "silver", "size": 3, "tags": ["steel"]}',           0.25, '2023-06-15 00:00:00+00'),
  (3, 'DRL-9',   'Cordless Drill',  NULL,                          '129.00', 15,  'ACTIVE',   '{"color": "yellow", "size": 18, "voltage": "18V"}',           1.8,  '2024-01-20 09:30:00+02'),
  (4, 'SAW-2',   'Hand Saw',        'Cuts 100% of woods',          '24.00',  0,   'ARCHIVED', '{"color": "blue", "tags": []}',                               0.9,  NULL),
  (5, 'IDE-1',   'Code Editor',     'Edits code',                  '0.00',   0,   'DRAFT',    '{}',                                                          NULL, NULL),
  (6, 'NUT-50',  'Nuts (50)',       'Hex nuts',                    '3.25',   500, 'ACTIVE',   '{"color": "silver", "size": 2}',                              0.2,  '2023-06-15 00:00:00+00'),
  (7, 'PLN-1',   'Planer',          'Electric planer',             '89.50',  5,   'DRAFT',    '{"color": "green", "size": 10, "tags": ["electric"]}',        2.1,  '2025-02-01 12:00:00+00');
SELECT setval(pg_get_serial_sequence('"Product"', 'id'), 100);

INSERT INTO "_CategoryToProduct" ("A", "B") VALUES (1, 1), (2, 1), (1, 2), (3, 2), (2, 3), (5, 3), (2, 4), (4, 5), (3, 6), (5, 7), (2, 7);

INSERT INTO "Order" ("id", "number", "accountId", "status", "placedAt", "note") VALUES
  (1, '00000000-0000-4000-8000-000000000001', 1, 'ACTIVE',   '2024-04-01 10:00:00', 'Leave at the door'),
  (2, '00000000-0000-4000-8000-000000000002', 1, 'ARCHIVED', '2024-04-15 11:00:00', NULL),
  (3, '00000000-0000-4000-8000-000000000003', 2, 'ACTIVE',   '2024-05-01 09:30:00', NULL),
  (4, '00000000-0000-4000-8000-000000000004', 4, 'DRAFT',    '2024-05-02 14:45:00', 'Gift'),
  (5, '00000000-0000-4000-8000-000000000005', 5, 'ACTIVE',   '2024-07-04 16:20:00', NULL);
SELECT setval(pg_get_serial_sequence('"Order"', 'id'), 100);

INSERT INTO "OrderLine" ("orderId", "productId", "quantity", "unitPrice") VALUES
  (1, 1, 1, '19.99'), (1, 2, 3, '4.50'), (2, 3, 1, '119.00'), (3, 2, 10, '4.25'), (3, 6, 2, '3.25'),
  (4, 4, 1, '24.00'), (5, 1, 2, '18.99'), (5, 3, 1, '129.00'), (5, 7, 1, '89.50');

INSERT INTO "Review" ("id", "rating", "title", "body", "productId", "authorId") VALUES
  (1, 5, 'Great hammer', 'Hits nails. Hard.', 1, 2),
  (2, 4, 'Solid',        NULL,                1, 5),
  (3, 2, 'Too heavy',    'My arm hurts',      3, 1),
  (4, 5, 'Perfect screws', NULL,              2, 2),
  (5, 1, 'Broke',        'Snapped in half',   4, 4),
  (6, 3, 'Okay',         NULL,                3, 5);
SELECT setval(pg_get_serial_sequence('"Review"', 'id'), 100);

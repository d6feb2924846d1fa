-- Seed for the benchmark schema (Tenant, User, Post, Comment): three tenants with
-- overlapping emails and titles, so a query that leaks across tenants shows up.
INSERT INTO "Tenant" ("id", "name", "createdAt") VALUES
  (1, 'acme',   '2024-01-01 00:00:00'),
  (2, 'globex', '2024-01-02 00:00:00'),
  (3, 'empty',  '2024-01-03 00:00:00');
SELECT setval(pg_get_serial_sequence('"Tenant"', 'id'), 100);

INSERT INTO "User" ("id", "tenantId", "email", "name", "createdAt") VALUES
  (1, 1, 'alice@acme.test', 'Alice', '2024-02-01 10:00:00'),
  (2, 1, 'bob@acme.test',   'Bob',   '2024-02-02 10:00:00'),
  (3, 1, 'carol@acme.test', NULL,    '2024-02-03 10:00:00'),
  (4, 2, 'alice@acme.test', 'Alice (globex)', '2024-02-01 10:00:00'),
  (5, 2, 'dave@globex.test', 'Dave', '2024-02-05 10:00:00');
SELECT setval(pg_get_serial_sequence('"User"', 'id'), 100);

INSERT INTO "Post" ("id", "tenantId", "authorId", "title", "published", "views", "createdAt") VALUES
  (1, 1, 1, 'Hello from Alice',   true,  120, '2024-03-01 09:00:00'),
  (2, 1, 1, 'Draft ideas',        false, 0,   '2024-03-02 09:00:00'),
  (3, 1, 2, 'Bob on building',    true,  45,  '2024-03-03 09:00:00'),
  (4, 1, 2, 'Second thoughts',    true,  45,  '2024-03-04 09:00:00'),
  (5, 1, 1, 'Hello again',        true,  300, '2024-03-05 09:00:00'),
  (6, 2, 4, 'Hello from Alice',   true,  999, '2024-03-01 09:00:00'),
  (7, 2, 5, 'Globex secrets',     false, 7,   '2024-03-06 09:00:00');
SELECT setval(pg_get_serial_sequence('"Post"', 'id'), 100);

INSERT INTO "Comment" ("id", "tenantId", "postId", "authorId", "body", "createdAt") VALUES
  (1, 1, 1, 2, 'Nice post!',        '2024-03-01 10:00:00'),
  (2, 1, 1, 3, 'Welcome',           '2024-03-01 11:00:00'),
  (3, 1, 3, 1, 'Good tips',         '2024-03-03 10:00:00'),
  (4, 1, 5, 2, 'Again?',            '2024-03-05 10:00:00'),
  (5, 1, 5, 3, 'Yes again',         '2024-03-05 11:00:00'),
  (6, 1, 5, 1, 'Thanks all',        '2024-03-05 12:00:00'),
  (7, 2, 6, 5, 'Globex comment',    '2024-03-01 10:00:00'),
  (8, 2, 7, 4, 'Secret comment',    '2024-03-06 10:00:00');
SELECT setval(pg_get_serial_sequence('"Comment"', 'id'), 100);

-- Seed for store_emulated.prisma (no foreign keys in the database).
INSERT INTO "Account" ("id", "email", "managerId") VALUES (1, 'ada@example.com', NULL), (2, 'bob@example.com', 1), (3, 'cleo@example.com', 1), (4, 'dan@example.org', 2);
SELECT setval(pg_get_serial_sequence('"Account"', 'id'), 100);
INSERT INTO "Profile" ("id", "bio", "accountId") VALUES (1, 'Ada', 1), (2, 'Bob', 2);
SELECT setval(pg_get_serial_sequence('"Profile"', 'id'), 100);
INSERT INTO "Category" ("id", "slug", "parentId") VALUES (1, 'hardware', NULL), (2, 'tools', 1), (3, 'power-tools', 2), (4, 'software', NULL);
SELECT setval(pg_get_serial_sequence('"Category"', 'id'), 100);
INSERT INTO "Product" ("id", "sku", "status") VALUES (1, 'HAM-001', 'ACTIVE'), (2, 'DRL-9', 'ACTIVE'), (3, 'IDE-1', 'DRAFT');
SELECT setval(pg_get_serial_sequence('"Product"', 'id'), 100);
INSERT INTO "_CategoryToProduct" ("A", "B") VALUES (2, 1), (3, 2), (4, 3), (1, 1);
INSERT INTO "Order" ("id", "accountId") VALUES (1, 1), (2, 1), (3, 2);
SELECT setval(pg_get_serial_sequence('"Order"', 'id'), 100);
INSERT INTO "OrderLine" ("orderId", "productId", "quantity") VALUES (1, 1, 1), (1, 2, 1), (2, 2, 3), (3, 1, 1);
INSERT INTO "Review" ("id", "rating", "productId", "authorId") VALUES (1, 5, 1, 2), (2, 3, 2, 3), (3, 4, 3, 4);
SELECT setval(pg_get_serial_sequence('"Review"', 'id'), 100);

-- Seed for corpus/schemas/tenants.prisma: tenants tnt_a and tnt_b with the same emails, names,
-- titles and per-tenant unique keys, interleaved ids, shared tags and categories used by both,
-- and a few values only tnt_b has (marked "secret") so an error or a result that carries one of
-- them is easy to spot.
INSERT INTO "Tenant" ("id", "name", "slug", "plan") VALUES
  ('tnt_a', 'Acme', 'acme', 'pro'),
  ('tnt_b', 'Globex', 'globex', 'pro');

INSERT INTO "Country" ("code", "name") VALUES
  ('FR', 'France'),
  ('DE', 'Germany'),
  ('JP', 'Japan');

INSERT INTO "User" ("id", "tenantId", "email", "name", "role", "age", "countryCode", "managerId") VALUES
  (1, 'tnt_a', 'alice@example.com', 'Alice', 'OWNER', 34, 'FR', NULL),
  (2, 'tnt_b', 'alice@example.com', 'Alice', 'OWNER', 34, 'FR', NULL),
  (3, 'tnt_a', 'bob@example.com', 'Bob', 'ADMIN', 28, 'DE', 1),
  (4, 'tnt_b', 'bob@example.com', 'Bob', 'ADMIN', 41, 'DE', 2),
  (5, 'tnt_a', 'carol@example.com', 'Carol', 'MEMBER', NULL, NULL, 1),
  (6, 'tnt_b', 'zed.secret@globex.test', 'Zed Secret', 'MEMBER', 55, 'JP', 2),
  (7, 'tnt_b', 'carol@example.com', 'Carol', 'MEMBER', 22, NULL, 4),
  (8, 'tnt_a', 'dave@example.com', 'Dave', 'MEMBER', 19, 'JP', 3);
SELECT setval(pg_get_serial_sequence('"User"', 'id'), 1000);

INSERT INTO "Profile" ("id", "tenantId", "userId", "bio", "score") VALUES
  ('pr_a1', 'tnt_a', 1, 'Founder', 10),
  ('pr_b2', 'tnt_b', 2, 'Founder', 10),
  ('pr_a3', 'tnt_a', 3, NULL, 5),
  ('pr_b6', 'tnt_b', 6, 'secret bio', 99);

INSERT INTO "Project" ("id", "tenantId", "name", "code", "budget", "archived") VALUES
  ('prj_a1', 'tnt_a', 'Apollo', 'ACME-APOLLO', 1000.50, false),
  ('prj_b1', 'tnt_b', 'Apollo', 'GLX-APOLLO', 1000.50, false),
  ('prj_a2', 'tnt_a', 'Zeus', 'ACME-ZEUS', NULL, true),
  ('prj_b2', 'tnt_b', 'Hidden', 'GLX-SECRET', 99999.99, false);

INSERT INTO "Membership" ("tenantId", "userId", "projectId", "role") VALUES
  ('tnt_a', 1, 'prj_a1', 'OWNER'),
  ('tnt_a', 3, 'prj_a1', 'MEMBER'),
  ('tnt_a', 5, 'prj_a2', 'ADMIN'),
  ('tnt_b', 2, 'prj_b1', 'OWNER'),
  ('tnt_b', 4, 'prj_b1', 'MEMBER'),
  ('tnt_b', 6, 'prj_b2', 'OWNER');

INSERT INTO "Category" ("id", "tenantId", "name", "slug") VALUES
  (1, NULL, 'General', 'general'),
  (2, 'tnt_a', 'News', 'news'),
  (3, 'tnt_b', 'News', 'news'),
  (4, NULL, 'Help', 'help'),
  (5, 'tnt_b', 'Secret', 'secret');
SELECT setval(pg_get_serial_sequence('"Category"', 'id'), 1000);

INSERT INTO "Tag" ("id", "tenantId", "name", "color") VALUES
  (1, NULL, 'featured', 'gold'),
  (2, 'tnt_a', 'rust', 'orange'),
  (3, 'tnt_b', 'rust', 'orange'),
  (4, 'tnt_a', 'db', NULL),
  (5, 'tnt_b', 'secret-tag', 'black'),
  (6, NULL, 'faq', NULL);
SELECT setval(pg_get_serial_sequence('"Tag"', 'id'), 1000);

INSERT INTO "Post" ("id", "tenantId", "authorId", "projectId", "categoryId", "title", "status", "views", "rating", "createdAt") VALUES
  (1, 'tnt_a', 1, 'prj_a1', 2, 'Hello world', 'PUBLISHED', 100, 4.5, '2024-01-01 10:00:00'),
  (2, 'tnt_b', 2, 'prj_b1', 3, 'Hello world', 'PUBLISHED', 100, 4.5, '2024-01-01 10:00:00'),
  (3, 'tnt_a', 3, NULL, 1, 'Draft notes', 'DRAFT', 0, NULL, '2024-01-02 10:00:00'),
  (4, 'tnt_b', 4, 'prj_b2', 5, 'Globex secret plans', 'ARCHIVED', 5000, 1.0, '2024-01-03 10:00:00'),
  (5, 'tnt_a', 1, 'prj_a2', NULL, 'Second post', 'PUBLISHED', 42, 3.0, '2024-01-04 10:00:00'),
  (6, 'tnt_b', 6, NULL, 1, 'Second post', 'DRAFT', 42, 3.0, '2024-01-04 10:00:00'),
  (7, 'tnt_a', 8, 'prj_a1', 4, 'Ask me', 'PUBLISHED', 7, NULL, '2024-01-05 10:00:00'),
  (8, 'tnt_b', 7, NULL, 4, 'Ask me', 'PUBLISHED', 7, NULL, '2024-01-05 10:00:00');
SELECT setval(pg_get_serial_sequence('"Post"', 'id'), 1000);

INSERT INTO "_PostToTag" ("A", "B") VALUES
  (1, 1), (1, 2), (3, 4), (5, 1), (7, 6),
  (2, 1), (2, 3), (4, 5), (4, 6), (6, 1), (6, 3), (8, 6);

INSERT INTO "Comment" ("id", "tenantId", "postId", "authorId", "body", "likes", "parentId") VALUES
  (1, 'tnt_a', 1, 3, 'Nice!', 2, NULL),
  (2, 'tnt_b', 2, 4, 'Nice!', 2, NULL),
  (3, 'tnt_a', 1, 1, 'Thanks', 0, 1),
  (4, 'tnt_b', 2, 2, 'Thanks', 0, 2),
  (5, 'tnt_b', 4, 6, 'secret comment', 9, NULL),
  (6, 'tnt_a', 5, 5, 'Hmm', 1, NULL),
  (7, 'tnt_b', 6, 7, 'Hmm', 1, NULL),
  (8, 'tnt_a', 7, 8, 'Question', 3, NULL),
  (9, 'tnt_b', 8, 7, 'Question', 3, 7);
SELECT setval(pg_get_serial_sequence('"Comment"', 'id'), 1000);

INSERT INTO "Skill" ("id", "name") VALUES
  (1, 'rust'),
  (2, 'sql'),
  (3, 'design');
SELECT setval(pg_get_serial_sequence('"Skill"', 'id'), 1000);

INSERT INTO "_SkillToUser" ("A", "B") VALUES
  (1, 1), (2, 1), (1, 3), (3, 5),
  (1, 2), (2, 4), (3, 6), (2, 7);

INSERT INTO "_SkillToTag" ("A", "B") VALUES
  (1, 1), (1, 2), (2, 3);

INSERT INTO "_CountryToSkill" ("A", "B") VALUES
  ('FR', 1), ('JP', 2);

INSERT INTO "_Follows" ("A", "B") VALUES
  (1, 3), (3, 1), (5, 1), (8, 3),
  (2, 4), (4, 2), (6, 2), (7, 4);

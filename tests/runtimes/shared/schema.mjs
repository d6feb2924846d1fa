// The schema the runtime smoke apps use: two tenant-scoped models with a relation, enough for
// tenant-scoped reads with an include and a nested write.

export const SCHEMA = `
datasource db {
  provider = "postgresql"
}

model User {
  id       Int    @id @default(autoincrement())
  tenantId Int
  email    String
  name     String?
  posts    Post[]

  @@unique([tenantId, email])
}

model Post {
  id        Int     @id @default(autoincrement())
  tenantId  Int
  authorId  Int
  author    User    @relation(fields: [authorId], references: [id])
  title     String
  published Boolean @default(false)
}
`;

/** Two tenants with the same email and titles, so a leak across tenants shows up. */
export const SEED = [
  `INSERT INTO "User" ("id", "tenantId", "email", "name") VALUES (1, 1, 'ann@x', 'Ann'), (2, 1, 'ben@x', 'Ben'), (3, 2, 'ann@x', 'Ann of 2')`,
  `SELECT setval(pg_get_serial_sequence('"User"', 'id'), 100)`,
  `INSERT INTO "Post" ("id", "tenantId", "authorId", "title", "published") VALUES
     (1, 1, 1, 'one', true), (2, 1, 2, 'two', true), (3, 1, 1, 'draft', false), (4, 2, 3, 'one', true)`,
  `SELECT setval(pg_get_serial_sequence('"Post"', 'id'), 100)`,
];

/** The same schema on MySQL / MariaDB (PlanetScale), for the Worker's PlanetScale path. */
export const MYSQL_SCHEMA = SCHEMA.replace('provider = "postgresql"', 'provider = "mysql"');

/** The same seed in MySQL's dialect, run in the test's own database. */
export const MYSQL_SEED = [
  "INSERT INTO `User` (`id`, `tenantId`, `email`, `name`) VALUES (1, 1, 'ann@x', 'Ann'), (2, 1, 'ben@x', 'Ben'), (3, 2, 'ann@x', 'Ann of 2')",
  "ALTER TABLE `User` AUTO_INCREMENT = 101",
  "INSERT INTO `Post` (`id`, `tenantId`, `authorId`, `title`, `published`) VALUES (1, 1, 1, 'one', 1), (2, 1, 2, 'two', 1), (3, 1, 1, 'draft', 0), (4, 2, 3, 'one', 1)",
  "ALTER TABLE `Post` AUTO_INCREMENT = 101",
];

-- The benchmark workload's data, shared by every benchmark: 10 tenants, 1,000 users, 10,000 posts,
-- 20,000 comments. Runs with search_path set to the benchmark's schema.
-- 10 tenants, 1000 users (100/tenant), 10000 posts (10/user), 20000 comments (2/post)
TRUNCATE "Comment", "Post", "User", "Tenant" RESTART IDENTITY CASCADE;
INSERT INTO "Tenant"("name") SELECT 'tenant-' || g FROM generate_series(1,10) g;
INSERT INTO "User"("tenantId","email","name","createdAt")
  SELECT ((g-1) % 10) + 1, 'user' || g || '@example.com', 'User ' || g, now() - (g || ' minutes')::interval
  FROM generate_series(1,1000) g;
INSERT INTO "Post"("tenantId","authorId","title","published","views","createdAt")
  SELECT u."tenantId", u.id, 'Post ' || p || ' by user ' || u.id, (p % 2 = 0), (p * 37 + u.id) % 1000,
         now() - ((u.id * 10 + p) || ' seconds')::interval
  FROM "User" u CROSS JOIN generate_series(1,10) p;
INSERT INTO "Comment"("tenantId","postId","authorId","body")
  SELECT po."tenantId", po.id, ((po.id * 7) % 1000) + 1, 'Comment ' || c || ' on post ' || po.id
  FROM "Post" po CROSS JOIN generate_series(1,2) c;
ANALYZE;

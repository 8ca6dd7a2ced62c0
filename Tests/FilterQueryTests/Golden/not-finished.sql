SELECT * FROM "analyses" WHERE "analyses"."finished_at" IS NULL
-- for people:
SELECT * FROM "analyses" WHERE "analyses"."finished_at" IS NULL

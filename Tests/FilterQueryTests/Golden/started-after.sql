SELECT * FROM "analyses" WHERE "analyses"."started_at" > $1
-- for people:
SELECT * FROM "analyses" WHERE "analyses"."started_at" > '2017-04-01 20:00:00'

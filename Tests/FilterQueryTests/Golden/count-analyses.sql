SELECT COUNT(*) FROM "analyses"
-- for people:
SELECT COUNT(*) FROM "analyses"

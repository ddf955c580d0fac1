-- SQLite has no TRUNCATE; its audit triggers (0001) already refuse UPDATE and DELETE.
SELECT 1;

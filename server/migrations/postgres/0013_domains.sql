-- An environment's own domain (certificates, HTTPS, Route 53 records), registered by an admin;
-- a request keeps the domain it was made with, so what was approved is what deploys.
ALTER TABLE environments ADD COLUMN domain_name TEXT;
ALTER TABLE deployment_requests ADD COLUMN domain_name TEXT;

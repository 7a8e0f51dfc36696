-- Inside the transaction that stores a parse: is the lease of the file still ours? The row
-- lock keeps it ours until the store commits, so a processor that lost the file (it froze
-- past the expiry) cannot overwrite what the new holder stored.
-- $1 fileloc, $2 holder component id
SELECT 1 FROM dag_file_lease WHERE fileloc = $1 AND holder_id = $2::uuid FOR UPDATE

-- The shared budget: lock every pool row, or fail at once (55P03) if another
-- transaction holds one; the caller then does other work. No parameters.
SELECT name, slots FROM pool ORDER BY name FOR UPDATE NOWAIT

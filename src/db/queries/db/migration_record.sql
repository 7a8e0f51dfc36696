-- A migration was applied. $1 version, $2 name
INSERT INTO keel_migration (version, name) VALUES ($1, $2)

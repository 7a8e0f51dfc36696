-- An operator may fence a component by hand (`keel ha fence`): a host that is partitioned or
-- misbehaving but alive. A fenced component never rejoins by heartbeating, as a component
-- marked dead does; it takes nothing more and must be restarted (a new component id).
ALTER TABLE component DROP CONSTRAINT component_state_check;
ALTER TABLE component ADD CONSTRAINT component_state_check CHECK (state IN ('running', 'stopping', 'stopped', 'dead', 'fenced'));
ALTER TABLE component ADD COLUMN fence_reason text;

-- A VM's commands, newest first: the console's VM timeline asks for them by VM.
CREATE INDEX command_by_vm ON command (vm_uuid, issued_at) WHERE vm_uuid IS NOT NULL;

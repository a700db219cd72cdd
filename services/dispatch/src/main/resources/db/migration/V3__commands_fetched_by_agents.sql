-- Agents fetch their commands over HTTPS by (host_id, sequence), which the table's unique key indexes; nothing looks
-- for undelivered commands to publish any more.
DROP INDEX command_undelivered;

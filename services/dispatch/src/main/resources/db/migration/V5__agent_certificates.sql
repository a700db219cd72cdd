-- The last Kafka client certificate the enrolment CA issued to each host: what an admin needs to know when a revoked
-- host's broker access ends (the certificate's end), and which serial to look for in the broker's logs.
ALTER TABLE host ADD COLUMN kafka_certificate_serial    text;
ALTER TABLE host ADD COLUMN kafka_certificate_not_after timestamptz;

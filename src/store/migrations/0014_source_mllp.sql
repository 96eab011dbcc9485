-- A source may send over MLLP (HL7 v2 over TCP) on a port of its own (issue 15): the address
-- it is heard on, and the addresses allowed to connect (blank: loopback only).
ALTER TABLE source ADD COLUMN mllp_listen TEXT;
ALTER TABLE source ADD COLUMN mllp_allow TEXT;

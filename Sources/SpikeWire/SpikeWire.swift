// SpikeWire: the wire protocol (issue 3).

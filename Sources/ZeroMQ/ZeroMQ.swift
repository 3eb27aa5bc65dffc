// ZeroMQ: thin wrapper over libzmq (issue 3).

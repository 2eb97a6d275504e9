"""connections-offboard: move one customer organization out of IBM Connections Cloud."""

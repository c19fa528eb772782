"""M-Pesa Express: STK push, STK query, the simulated customer and the callback."""

"""Electronic signature of contracts: envelopes and signers (models), the provider interface and registry
(base), and the state machine every provider drives (services). Providers live in their own modules."""

"""The engine's endpoints: the account's program (its reward rules) in the server-to-server
dialect. They live with the engine, a floor above the four apps whose objects a rule names
(stores, categories, rewards, message templates); `loyalty.api` stays below them."""

"""The relational store: models, engine, migrations and the queries that use them."""

"""The API's endpoints, one module per resource; ``inbox.api.routes`` assembles them."""

"""One module per area; each holds an `APIRouter` named `router`."""

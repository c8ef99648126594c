from ninja import Router

router = Router(tags=["危机处置"])

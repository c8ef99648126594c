from ninja import Router

router = Router(tags=["监控预警"])

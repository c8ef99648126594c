from ninja import Router

router = Router(tags=["授权与补偿"])

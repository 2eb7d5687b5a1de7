"""What-if in the server-to-server dialect: `POST /api/v2/rules/simulate` and
`GET /api/v2/rules/simulations/{id}`.

A draft of the program — rules added, changed, retired — is validated as `POST /api/v2/rules`
and `PATCH /api/v2/rules/{id}` validate it (a 400 names the field, under `add` or `change`
and the entry's index; a rule id of another account is a 404, as the rule's own URL answers
it), then replayed over the account's recorded sales beside the rules in force
(`loyalty.engine.simulation`): inline (200) when the range is small and the account has a
slot free, else queued for the background job (202, with the simulation's URL to follow).
Nothing of the business is written; the simulation and its answer are kept a few days.
"""

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.api.dialects import V2Mixin
from loyalty.api.errors import refused
from loyalty.core.ids import MAX_ID
from loyalty.engine.api.serializers import API_NAMES
from loyalty.engine.api.simulation_serializers import (
    SimulationAnswerSerializer,
    SimulationRequestSerializer,
    SimulationRunSerializer,
)
from loyalty.engine.simulation.drafts import DraftRefused, RulesNotFound, simulation_spec
from loyalty.engine.simulation.models import Simulation
from loyalty.engine.simulation.runs import simulation_ask
from loyalty.engine.simulation.services import DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, Window

DOUBLE_SATURDAYS = OpenApiExample(
    "Double points on Saturdays, last 90 days",
    request_only=True,
    value={"add": [{"name": "Double points on Saturdays", "kind": "points", "value": 1, "weekdays": [5]}]},
)
CASHBACK_CHANGE = OpenApiExample(
    "Cashback of rule 3 from 5 % to 10 % on Hortifruti, in May",
    request_only=True,
    value={
        "date_from": "2026-05-01",
        "date_to": "2026-05-31",
        "change": [{"id": 3, "value": 10, "category_ids": [12]}],
    },
)


def simulation_url(simulation: Simulation) -> str:
    return f"/api/v2/rules/simulations/{simulation.pk}"


class SimulateView(V2Mixin, APIView):
    # It changes nothing of the business: no transaction is held around it unless an
    # Idempotency-Key asks for its answer to be kept (the run then holds the account's
    # simulation slot until its answer is stored, a few seconds at most inline).
    writes = False
    openapi_error_codes = (404,)

    @extend_schema(
        tags=["Program"],
        operation_id="rules_simulate",
        summary="What if: the rules in force and a draft, replayed over recorded sales",
        description=(
            "Replays every recorded, identified, non-cancelled sale of the local days `date_from` to "
            f"`date_to` (default: the last {DEFAULT_RANGE_DAYS} days; at most {MAX_RANGE_DAYS}) — their "
            "returns taken back — through the engine's rule evaluation under the active rules and under "
            "the draft (`add`, `change`, `retire`), and answers what each would have granted, the "
            "difference, by day, store and category, and the liability the draft adds that would still "
            "be unexpired today. Nothing of the business is written. The draft's rules are validated as `POST` and `PATCH "
            "/api/v2/rules` validate them: a 400 names the field under `add` or `change` and the "
            "entry's index. A rule id that is not of the account is a 404. Vouchers are counted as if "
            "every reward had stock.\n\n"
            "A range of up to 20,000 sales (`SIMULATION_INLINE_MAX_SALES`) answers at once (200). A "
            "larger one — or any while the account already runs its maximum of simulations at once "
            "(`SIMULATION_MAX_RUNNING`, default 2) — is queued: 202 with the simulation's state and "
            "its URL in `Location`; `GET /api/v2/rules/simulations/{id}` gives its progress, then its "
            "answer. Simulations are kept 7 days after they end (`SIMULATION_KEEP_DAYS`)."
        ),
        request=SimulationRequestSerializer,
        responses={
            200: SimulationAnswerSerializer,
            202: OpenApiResponse(SimulationRunSerializer, description="Queued: follow `Location`."),
        },
        examples=[DOUBLE_SATURDAYS, CASHBACK_CHANGE],
    )
    def post(self, request: Request) -> Response:
        serializer = SimulationRequestSerializer(
            data=request.data, context={"request": request, "today": Window.default(self.account).date_to}
        )
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        window = Window(
            date_from=data["date_from"],
            date_to=data["date_to"],
            store_ids=tuple(store.pk for store in data.get("store_ids", [])),
        )
        spec = simulation_spec(
            window=window,
            add=data.get("add", []),
            change=data.get("change", []),
            retire=data.get("retire", []),
        )
        try:
            simulation = simulation_ask(account=self.account, spec=spec, requested_by=str(request.user))
        except RulesNotFound as missing:
            raise NotFound(str(missing)) from None
        except DraftRefused as refusal:
            detail = refused(refusal.error, API_NAMES).detail
            raise ValidationError({refusal.section: {refusal.index: detail}}) from None
        if simulation.status == Simulation.Status.DONE:
            return Response({"id": simulation.pk, **simulation.result})
        return Response(
            SimulationRunSerializer(simulation).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": simulation_url(simulation)},
        )


class SimulationView(V2Mixin, APIView):
    openapi_error_codes = (404,)

    @extend_schema(
        tags=["Program"],
        operation_id="rules_simulation_get",
        summary="A simulation: its progress, then its answer",
        description=(
            "`status` is `queued`, `running` (`progress` from 0 to 1), `done` (`result` holds the "
            "answer, as `POST /api/v2/rules/simulate` gives it inline) or `failed` (`error` says why: "
            "a draft no longer valid against the account, or a failure — ask for it again). Kept 7 days "
            "after it ends. Another account's simulation is a 404."
        ),
        responses={200: SimulationRunSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        simulation = Simulation.objects.filter(account=self.account, pk=pk).first() if pk <= MAX_ID else None
        if simulation is None:
            raise NotFound()
        return Response(SimulationRunSerializer(simulation).data)

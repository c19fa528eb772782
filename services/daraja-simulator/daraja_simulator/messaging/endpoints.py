"""Control API of the simulated mail server and SMS provider, Africa's Talking's send endpoint,
and the mailbox page."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from daraja_simulator.messaging import page
from daraja_simulator.messaging.schemas import (
    AtMessageData,
    AtRecipient,
    AtSendResponse,
    AttachmentView,
    EmailList,
    EmailView,
    RejectedAddresses,
    RejectionIn,
    SmsFailureIn,
    SmsFailures,
    SmsList,
    SmsView,
)
from daraja_simulator.messaging.store import Email, Mailbox, SmsCenter

router = APIRouter(prefix="/simulator", tags=["simulator messaging"])
provider_router = APIRouter(tags=["africa's talking"])
page_router = APIRouter(tags=["simulator messaging"])

SMS_COST = Decimal("0.8000")
EmailId = Annotated[str, Path(description="the id in `GET /simulator/emails`")]


def _mailbox(request: Request) -> Mailbox:
    mailbox: Mailbox = request.app.state.mailbox
    return mailbox


def _sms(request: Request) -> SmsCenter:
    center: SmsCenter = request.app.state.sms_center
    return center


def _view(email: Email) -> EmailView:
    return EmailView(
        id=email.id,
        message_id=email.message_id,
        sender=email.sender,
        recipients=email.recipients,
        subject=email.subject,
        text=email.text,
        html=email.html,
        attachments=[
            AttachmentView(
                filename=a.filename,
                content_type=a.content_type,
                size=len(a.content),
                url=f"/simulator/emails/{email.id}/attachments/{index}",
            )
            for index, a in enumerate(email.attachments)
        ],
        received_at=email.received_at,
    )


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"error": "NotFound", "detail": what}, status_code=404)


@router.get("/emails", response_model=EmailList)
async def list_emails(
    request: Request,
    to: Annotated[str | None, Query(description="only those sent to this address")] = None,
) -> EmailList:
    """Every email the simulator's SMTP server accepted, newest first."""
    emails = _mailbox(request).emails
    chosen = [e for e in emails if to is None or to.lower() in (r.lower() for r in e.recipients)]
    return EmailList(emails=[_view(e) for e in chosen])


@router.delete("/emails", status_code=204)
async def clear_emails(request: Request) -> Response:
    """Empty the mailbox."""
    _mailbox(request).clear()
    return Response(status_code=204)


@router.get(
    "/emails/{email_id}/attachments/{index}",
    responses={200: {"content": {"application/octet-stream": {}}}, 404: {}},
)
async def download_attachment(
    request: Request, email_id: EmailId, index: Annotated[int, Path(ge=0)]
) -> Response:
    """One attachment of an email, as it was sent."""
    email = _mailbox(request).get(email_id)
    if email is None or index >= len(email.attachments):
        return _not_found(f"no attachment {index} on email {email_id}")
    attachment = email.attachments[index]
    return Response(
        attachment.content,
        media_type=attachment.content_type,
        headers={"Content-Disposition": f'attachment; filename="{attachment.filename}"'},
    )


@router.get("/emails/{email_id}/html", response_class=HTMLResponse, responses={404: {}})
async def email_html(request: Request, email_id: EmailId) -> Response:
    """An email's HTML part, rendered (sandboxed by the mailbox page's iframe)."""
    email = _mailbox(request).get(email_id)
    if email is None:
        return _not_found(f"no email {email_id}")
    return HTMLResponse(
        email.html or "<pre>(no HTML part)</pre>",
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


@router.put("/emails/rejections", response_model=RejectedAddresses)
async def reject_address(request: Request, rejection: RejectionIn) -> RejectedAddresses:
    """Refuse mail to an address (`550 5.1.1 Mailbox unavailable` at RCPT TO)."""
    mailbox = _mailbox(request)
    mailbox.rejected.add(rejection.address.lower())
    return RejectedAddresses(addresses=sorted(mailbox.rejected))


@router.delete("/emails/rejections", response_model=RejectedAddresses)
async def clear_rejections(request: Request) -> RejectedAddresses:
    """Accept mail to every address again."""
    _mailbox(request).rejected.clear()
    return RejectedAddresses(addresses=[])


@router.get("/sms", response_model=SmsList)
async def list_sms(
    request: Request,
    to: Annotated[str | None, Query(description="only those sent to +2547XXXXXXXX")] = None,
) -> SmsList:
    """Every SMS taken by the simulated provider, newest first, with its delivery status."""
    messages = [m for m in _sms(request).messages if to is None or m.to == to]
    return SmsList(
        messages=[
            SmsView(
                id=m.id,
                to=m.to,
                sender_id=m.sender_id,
                message=m.message,
                status_code=m.status_code,
                status=m.status,
                delivery_status=m.delivery_status,
                failure_reason=m.failure_reason,
                sent_at=m.sent_at,
            )
            for m in messages
        ]
    )


@router.delete("/sms", status_code=204)
async def clear_sms(request: Request) -> Response:
    """Forget every SMS (numbers set to fail keep failing)."""
    _sms(request).clear()
    return Response(status_code=204)


@router.put("/sms/failures", response_model=SmsFailures)
async def fail_sms(request: Request, failure: SmsFailureIn) -> SmsFailures:
    """Make every SMS to a number fail, when sent or at delivery."""
    center = _sms(request)
    center.failing[failure.phone] = failure.at
    return SmsFailures(failing=dict(center.failing))


@router.delete("/sms/failures", response_model=SmsFailures)
async def clear_sms_failures(request: Request) -> SmsFailures:
    """Let SMS to every number succeed again."""
    center = _sms(request)
    center.failing.clear()
    return SmsFailures(failing={})


@provider_router.post(
    "/version1/messaging",
    status_code=201,
    response_model=AtSendResponse,
    responses={401: {"content": {"text/plain": {}}}, 400: {"content": {"text/plain": {}}}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["username", "to", "message"],
                        "properties": {
                            "username": {"type": "string"},
                            "to": {"type": "string"},
                            "message": {"type": "string"},
                            "from": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def send_sms(
    request: Request, api_key: Annotated[str | None, Header(alias="apiKey")] = None
) -> Response | AtSendResponse:
    """Africa's Talking's bulk SMS send: form fields in, `SMSMessageData` out."""
    form = {
        k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()
    }
    username, to, message = form.get("username", ""), form.get("to", ""), form.get("message", "")
    sender_id = form.get("from")
    if not to or not message:
        return Response("to and message are required form fields", status_code=400)
    settings = request.app.state.settings
    if username != settings.SMS_USERNAME or api_key != settings.SMS_API_KEY:
        return Response("The supplied authentication is invalid", status_code=401)
    center = _sms(request)
    taken = [
        center.take(username=username, sender_id=sender_id, to=number.strip(), message=message)
        for number in to.split(",")
        if number.strip()
    ]
    accepted = [s for s in taken if s.status_code < 200]
    cost = f"KES {SMS_COST}"
    return AtSendResponse(
        SMSMessageData=AtMessageData(
            Message=f"Sent to {len(accepted)}/{len(taken)} Total Cost: KES "
            f"{SMS_COST * len(accepted)}",
            Recipients=[
                AtRecipient(
                    statusCode=s.status_code,
                    number=s.to,
                    status=s.status,
                    cost=cost if s.status_code < 200 else "0",
                    messageId=s.id if s.status_code < 200 else "None",
                )
                for s in taken
            ],
        )
    )


@page_router.get("/mailbox", response_class=HTMLResponse, include_in_schema=False)
async def mailbox_page() -> HTMLResponse:
    """Every email and SMS the simulator received, HTML rendered, attachments downloadable."""
    return HTMLResponse(page.MAILBOX_HTML)

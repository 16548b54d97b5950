"""Reading a post's form: the one place the web app does it, refusing a field that the form sends once but the post carries twice, sends as text but the post carries as a file, or that is not text as a browser sends it."""

from collections import Counter
from urllib.parse import unquote_plus, unquote_to_bytes

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from fourpi.domain.errors import InvalidInput
from fourpi.domain.use_cases import MANAGER_USE_CASES, FieldKind

MANY_VALUED = frozenset(
    field.name
    for use_case in MANAGER_USE_CASES
    for field in use_case.fields
    if field.kind in (FieldKind.CHOICES, FieldKind.REFERENCES)
)
"""The fields a form sends once for each box ticked (a meeting's participants, a
change's impact areas); every other field is sent once."""
URLENCODED = "application/x-www-form-urlencoded"
FILES = frozenset({"workbook"})
"""The fields a form sends as a file (the workbook page's); every other is text."""


async def form_of(request: Request) -> FormData:
    """The post's form; InvalidInput (400, nothing recorded) naming the first field
    sent more than once that the form sends once (taking the last of them, as
    FormData.get does, would let a forged post say one thing to a check and
    another to a write: role=evaluator&role=admin), or sent as a file that the
    form sends as text."""
    media_type = request.headers.get("content-type", "").partition(";")[0]
    if media_type.strip().lower() == URLENCODED:
        refuse_text_not_as_a_browser_sends_it(await request.body())
    form = await request.form()
    counted = Counter(name for name, _ in form.multi_items())
    for name, count in counted.items():
        if count > 1 and name not in MANY_VALUED:
            raise InvalidInput(name, "sent more than once, where the form sends one")
    for name, value in form.multi_items():
        # Read as text, a file is its repr ("UploadFile(filename=...)"): recorded
        # as someone's words, or a pseudonym.
        if isinstance(value, UploadFile) and name not in FILES:
            raise InvalidInput(name, "sent as a file, where the form sends text")
    return form


def refuse_text_not_as_a_browser_sends_it(body: bytes) -> None:
    """InvalidInput naming the first field of a urlencoded post that is not
    percent-encoded UTF-8, as a browser sends every field: Starlette read a byte
    beyond ASCII as Latin-1 and a percent-encoded sequence that is not UTF-8 (a
    lone surrogate, say) as U+FFFD, and the text so made was recorded."""
    for pair in body.split(b"&"):
        for part in pair.split(b"=", 1):
            try:
                if not part.isascii():
                    raise UnicodeError
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeError:
                name = unquote_plus(pair.partition(b"=")[0].decode("latin-1"))
                raise InvalidInput(
                    name, "must be text in UTF-8, percent-encoded as a browser sends it"
                ) from None

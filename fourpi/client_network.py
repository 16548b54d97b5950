"""Who a guess (a wrong personal link, password or bearer token) is counted against: the client's network address, an IPv6 address by the /64 block it belongs to."""

import ipaddress

from starlette.requests import HTTPConnection


def guesser_of(request: HTTPConnection) -> str:
    """The network a request's guesses count against (behind a trusted proxy, that
    of the address it forwarded)."""
    client = request.client
    return network_of(client.host) if client is not None else "unknown"


def network_of(address: str) -> str:
    """An IPv4 address as it is; an IPv6 address as its /64, the block one
    subscriber (a home, a phone) is given and picks addresses from at will, so
    that a new address is not a new guesser; an IPv4 address written as IPv6
    (::ffff:192.0.2.7) as that IPv4 address; anything else (a name a proxy
    forwarded) as it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)

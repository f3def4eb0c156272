"""The built-in world the demo data happens in: cities with their place on the map and an ISP.

Demo events carry `context.geo` and `context.asn` from this table instead of MaxMind files, so
the map and the ASN columns work on a fresh install. Each city owns a public network of its
(real or plausible) ISP, and demo addresses are drawn from inside it, so an IP filter, the map
and the ASN all agree about where an address is.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from typing import Any

#: The autonomous systems the cities' networks belong to: number -> organisation.
ASNS: dict[int, str] = {
    701: "Verizon Business",
    812: "Rogers Communications Canada Inc.",
    852: "TELUS Communications Inc.",
    1136: "KPN B.V.",
    1221: "Telstra Limited",
    2516: "KDDI Corporation",
    2856: "British Telecommunications PLC",
    3215: "Orange S.A.",
    3243: "MEO - Servicos De Comunicacoes E Multimedia S.A.",
    3269: "Telecom Italia S.p.A.",
    3301: "Telia Company AB",
    3303: "Swisscom (Schweiz) AG",
    3320: "Deutsche Telekom AG",
    3352: "Telefonica de Espana S.A.U.",
    4134: "Chinanet",
    4713: "NTT Communications Corporation",
    4766: "Korea Telecom",
    4771: "Spark New Zealand Trading Ltd.",
    4837: "China Unicom Backbone",
    5089: "Virgin Media Limited",
    5384: "Emirates Telecommunications Group Company (Etisalat Group) PJSC",
    5466: "Eircom Limited",
    5617: "Orange Polska Spolka Akcyjna",
    7018: "AT&T Services, Inc.",
    7303: "Telecom Argentina S.A.",
    7713: "PT Telekomunikasi Indonesia",
    7922: "Comcast Cable Communications, LLC",
    8151: "UNINET",
    8452: "TE Data",
    8551: "Bezeq International Ltd.",
    9121: "Turk Telekom",
    9506: "Singtel Fibre Broadband",
    10620: "Telmex Colombia S.A.",
    14061: "DigitalOcean, LLC",
    14618: "Amazon.com, Inc.",
    15895: "Kyivstar PJSC",
    16276: "OVH SAS",
    18881: "TELEFONICA BRASIL S.A",
    22047: "VTR BANDA ANCHA S.A.",
    24560: "Bharti Airtel Ltd., Telemedia Services",
    29465: "MTN NIGERIA Communication limited",
    29975: "Vodacom",
    33771: "Safaricom Limited",
    45102: "Alibaba (US) Technology Co., Ltd.",
    49505: "JSC Selectel",
    55836: "Reliance Jio Infocomm Limited",
}


@dataclass(frozen=True)
class City:
    """A place demo users sign in from; `hosting` marks data-centre networks attackers rent."""

    name: str
    country: str  # ISO 3166-1 alpha-2
    continent: str  # AF, AS, EU, NA, OC, SA
    lat: float
    long: float
    network: str  # a public network of the city's ISP, as CIDR
    asn: int
    hosting: bool = False
    geo: dict[str, Any] = field(init=False, repr=False, compare=False)
    as_info: dict[str, Any] = field(init=False, repr=False, compare=False)
    _net: ipaddress.IPv4Network = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_net", ipaddress.IPv4Network(self.network))
        # Built once: every event from this city shares the same two small dicts.
        object.__setattr__(self, "geo", {"continent": self.continent, "country": self.country,
                                         "lat": self.lat, "long": self.long, "city": self.name})
        object.__setattr__(self, "as_info", {"asn": self.asn, "as_org": ASNS[self.asn],
                                             "network": self.network})

    @property
    def utc_offset(self) -> int:
        """Hours ahead of UTC by the sun (longitude / 15): close enough for a day/night rhythm."""
        return round(self.long / 15)

    def random_ip(self, rng: random.Random) -> str:
        """An address inside the city's network, never its network or broadcast address."""
        return str(self._net.network_address + rng.randrange(1, self._net.num_addresses - 1))


CITIES: tuple[City, ...] = (
    City("London", "GB", "EU", 51.5074, -0.1278, "86.128.0.0/12", 2856),
    City("Manchester", "GB", "EU", 53.4808, -2.2426, "82.20.0.0/14", 5089),
    City("Dublin", "IE", "EU", 53.3498, -6.2603, "86.40.0.0/14", 5466),
    City("Paris", "FR", "EU", 48.8566, 2.3522, "90.0.0.0/12", 3215),
    City("Berlin", "DE", "EU", 52.5200, 13.4050, "87.160.0.0/12", 3320),
    City("Amsterdam", "NL", "EU", 52.3676, 4.9041, "77.160.0.0/12", 1136),
    City("Madrid", "ES", "EU", 40.4168, -3.7038, "83.32.0.0/12", 3352),
    City("Lisbon", "PT", "EU", 38.7223, -9.1393, "85.240.0.0/13", 3243),
    City("Rome", "IT", "EU", 41.9028, 12.4964, "79.0.0.0/12", 3269),
    City("Zürich", "CH", "EU", 47.3769, 8.5417, "85.0.0.0/13", 3303),
    City("Stockholm", "SE", "EU", 59.3293, 18.0686, "81.224.0.0/12", 3301),
    City("Warsaw", "PL", "EU", 52.2297, 21.0122, "83.0.0.0/12", 5617),
    City("Kyiv", "UA", "EU", 50.4501, 30.5234, "46.211.0.0/16", 15895),
    City("Istanbul", "TR", "AS", 41.0082, 28.9784, "78.160.0.0/12", 9121),
    City("Tel Aviv", "IL", "AS", 32.0853, 34.7818, "79.176.0.0/13", 8551),
    City("Dubai", "AE", "AS", 25.2048, 55.2708, "94.200.0.0/14", 5384),
    City("Mumbai", "IN", "AS", 19.0760, 72.8777, "49.36.0.0/14", 55836),
    City("Bangalore", "IN", "AS", 12.9716, 77.5946, "122.160.0.0/12", 24560),
    City("Singapore", "SG", "AS", 1.3521, 103.8198, "116.14.0.0/15", 9506),
    City("Jakarta", "ID", "AS", -6.2088, 106.8456, "36.64.0.0/12", 7713),
    City("Shanghai", "CN", "AS", 31.2304, 121.4737, "180.152.0.0/13", 4134),
    City("Seoul", "KR", "AS", 37.5665, 126.9780, "175.192.0.0/12", 4766),
    City("Tokyo", "JP", "AS", 35.6762, 139.6503, "153.156.0.0/14", 4713),
    City("Osaka", "JP", "AS", 34.6937, 135.5023, "106.128.0.0/13", 2516),
    City("Sydney", "AU", "OC", -33.8688, 151.2093, "120.144.0.0/13", 1221),
    City("Auckland", "NZ", "OC", -36.8485, 174.7633, "122.56.0.0/14", 4771),
    City("Cairo", "EG", "AF", 30.0444, 31.2357, "197.32.0.0/13", 8452),
    City("Lagos", "NG", "AF", 6.5244, 3.3792, "102.88.0.0/15", 29465),
    City("Nairobi", "KE", "AF", -1.2921, 36.8219, "105.160.0.0/13", 33771),
    City("Johannesburg", "ZA", "AF", -26.2041, 28.0473, "41.0.0.0/13", 29975),
    City("New York", "US", "NA", 40.7128, -74.0060, "72.68.0.0/14", 701),
    City("Chicago", "US", "NA", 41.8781, -87.6298, "73.44.0.0/14", 7922),
    City("San Francisco", "US", "NA", 37.7749, -122.4194, "73.162.0.0/15", 7922),
    City("Austin", "US", "NA", 30.2672, -97.7431, "99.32.0.0/12", 7018),
    City("Toronto", "CA", "NA", 43.6532, -79.3832, "99.224.0.0/12", 812),
    City("Vancouver", "CA", "NA", 49.2827, -123.1207, "154.20.0.0/15", 852),
    City("Mexico City", "MX", "NA", 19.4326, -99.1332, "189.128.0.0/12", 8151),
    City("Bogotá", "CO", "SA", 4.7110, -74.0721, "181.48.0.0/13", 10620),
    City("São Paulo", "BR", "SA", -23.5505, -46.6333, "179.96.0.0/13", 18881),
    City("Buenos Aires", "AR", "SA", -34.6037, -58.3816, "181.44.0.0/14", 7303),
    City("Santiago", "CL", "SA", -33.4489, -70.6693, "190.160.0.0/13", 22047),
    # Data centres: where credential stuffing and the external billing app come from.
    City("Ashburn", "US", "NA", 39.0438, -77.4874, "3.80.0.0/12", 14618, hosting=True),
    City("Frankfurt am Main", "DE", "EU", 50.1109, 8.6821, "164.90.0.0/16", 14061,
         hosting=True),
    City("Roubaix", "FR", "EU", 50.6942, 3.1746, "51.75.0.0/16", 16276, hosting=True),
    City("Moscow", "RU", "EU", 55.7558, 37.6173, "5.188.0.0/16", 49505, hosting=True),
    City("Hong Kong", "HK", "AS", 22.3193, 114.1694, "47.74.0.0/15", 45102, hosting=True),
    City("Beijing", "CN", "AS", 39.9042, 116.4074, "123.112.0.0/12", 4837, hosting=True),
)

CITIES_BY_NAME: dict[str, City] = {city.name: city for city in CITIES}
HOSTING_CITIES: tuple[City, ...] = tuple(city for city in CITIES if city.hosting)

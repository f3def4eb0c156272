"""The people of the demo company, and the service account of the external billing app.

They become real rows in the users table (with unusable passwords), so user links, the user
filter and the directory pages show the same people the demo events talk about.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.demo.cities import CITIES_BY_NAME, City
from webapp.models import UserType

EMAIL_DOMAIN = "example.com"
#: The groups model changes in the demo data talk about; created with the users.
GROUPS: tuple[str, ...] = ("engineering", "support", "finance", "sales", "security",
                           "contractors")


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    city_name: str
    admin: bool = False
    type: str = UserType.INTERNAL.value

    @property
    def city(self) -> City:
        return CITIES_BY_NAME[self.city_name]

    @property
    def email(self) -> str:
        return "" if self.type != UserType.INTERNAL.value else f"{self.username}@{EMAIL_DOMAIN}"


PEOPLE: tuple[Person, ...] = (
    Person("maria.garcia", "María García", "Madrid", admin=True),
    Person("james.wilson", "James Wilson", "London", admin=True),
    Person("lukas.mueller", "Lukas Müller", "Berlin", admin=True),
    Person("olivia.brown", "Olivia Brown", "New York", admin=True),
    Person("yuki.tanaka", "Yuki Tanaka", "Tokyo"),
    Person("priya.sharma", "Priya Sharma", "Bangalore"),
    Person("chen.wei", "Chen Wei", "Shanghai"),
    Person("lucas.silva", "Lucas Silva", "São Paulo"),
    Person("amara.okafor", "Amara Okafor", "Lagos"),
    Person("sofia.rossi", "Sofia Rossi", "Rome"),
    Person("emma.johansson", "Emma Johansson", "Stockholm"),
    Person("noah.martin", "Noah Martin", "Toronto"),
    Person("fatima.alsayed", "Fatima Al-Sayed", "Dubai"),
    Person("jiwoo.kim", "Kim Ji-woo", "Seoul"),
    Person("liam.obrien", "Liam O'Brien", "Dublin"),
    Person("chloe.dubois", "Chloé Dubois", "Paris"),
    Person("mateo.fernandez", "Mateo Fernández", "Buenos Aires"),
    Person("aisha.kamau", "Aisha Kamau", "Nairobi"),
    Person("jack.taylor", "Jack Taylor", "Sydney"),
    Person("isabella.lopez", "Isabella López", "Mexico City"),
    Person("daan.devries", "Daan de Vries", "Amsterdam"),
    Person("zofia.nowak", "Zofia Nowak", "Warsaw"),
    Person("ahmed.hassan", "Ahmed Hassan", "Cairo"),
    Person("ethan.nguyen", "Ethan Nguyen", "San Francisco"),
    Person("hannah.cohen", "Hannah Cohen", "Tel Aviv"),
    Person("arjun.patel", "Arjun Patel", "Mumbai"),
    Person("mia.schneider", "Mia Schneider", "Zürich"),
    Person("sipho.ndlovu", "Sipho Ndlovu", "Johannesburg"),
    Person("camila.rodriguez", "Camila Rodríguez", "Bogotá"),
    Person("oliver.smith", "Oliver Smith", "Manchester"),
    Person("ana.costa", "Ana Costa", "Lisbon"),
    Person("weiling.tan", "Tan Wei Ling", "Singapore"),
    Person("aroha.parata", "Aroha Parata", "Auckland"),
    Person("diego.munoz", "Diego Muñoz", "Santiago"),
    Person("elif.yilmaz", "Elif Yılmaz", "Istanbul"),
    Person("olena.kovalenko", "Olena Kovalenko", "Kyiv"),
    Person("grace.lee", "Grace Lee", "Chicago"),
    Person("ryan.chen", "Ryan Chen", "Vancouver"),
    Person("kenji.sato", "Kenji Sato", "Osaka"),
    Person("siti.rahmawati", "Siti Rahmawati", "Jakarta"),
    Person("tyler.johnson", "Tyler Johnson", "Austin"),
)

#: The external app that sends its own (custom_) events through the API.
BILLING_SERVICE = Person("acme-billing", "ACME Billing", "Ashburn",
                         type=UserType.SERVICE_ACCOUNT.value)

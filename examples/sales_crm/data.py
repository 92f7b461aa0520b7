"""The raw material of the sales CRM seed: products, places, names and sales vocabulary.

Names are common given names and surnames from many countries; companies are made up
from neutral words, and every web or e-mail domain generated from them ends in the
reserved ``.example`` top-level domain.
"""
from __future__ import annotations

#: The size and randomness of a seed run unless told otherwise.
DEFAULT_ACCOUNTS = 50
DEFAULT_RANDOM_SEED = 7

# (name, code, family, list price)
PRODUCTS = (
    ("Trellis Cloud Starter (per seat/year)", "CLD-STR", "Software", 240),
    ("Trellis Cloud Professional (per seat/year)", "CLD-PRO", "Software", 660),
    ("Trellis Cloud Enterprise (per seat/year)", "CLD-ENT", "Software", 1500),
    ("Analytics Add-on (per seat/year)", "ADD-ANL", "Software", 180),
    ("Rugged Field Tablet", "HW-TAB-10", "Hardware", 1290),
    ("Barcode Scanner Kit", "HW-SCN-02", "Hardware", 349),
    ("Implementation Services (per day)", "SVC-IMP", "Services", 1400),
    ("Data Migration (per day)", "SVC-MIG", "Services", 1250),
    ("Premier Support (annual)", "SUP-PREM", "Support", 12000),
    ("Standard Support (annual)", "SUP-STD", "Support", 4800),
    ("Admin Training (per attendee)", "TRN-ADM", "Training", 950),
    ("End-user Training Workshop", "TRN-USR", "Training", 3200),
)
QUANTITIES = {"Software": (5, 250), "Hardware": (1, 40), "Services": (3, 45),
              "Support": (1, 1), "Training": (1, 12)}

# country, legal suffixes, cities as (city, area code / prefix, postal code pattern)
COUNTRIES = (
    ("United States", ("Inc.", "LLC", "Corp."), (
        ("San Francisco", "415", "941##"), ("New York", "212", "100##"),
        ("Chicago", "312", "606##"), ("Austin", "512", "787##"), ("Boston", "617", "021##"),
        ("Seattle", "206", "981##"))),
    ("United Kingdom", ("Ltd", "plc"), (
        ("London", "20 7946", "EC#A #BB"), ("Manchester", "161 496", "M# #AB"))),
    ("Germany", ("GmbH", "AG"), (("Berlin", "30", "10###"), ("Munich", "89", "80###"))),
    ("France", ("SAS", "SA"), (("Paris", "1 99 00", "750##"), ("Lyon", "4 99 00", "690##"))),
    ("Canada", ("Inc.", "Ltd."), (("Toronto", "416", "M#V #A#"),
                                  ("Vancouver", "604", "V#B #A#"))),
    ("Australia", ("Pty Ltd",), (("Sydney", "2 5550", "2###"), ("Melbourne", "3 5550", "3###"))),
    ("Netherlands", ("B.V.",), (("Amsterdam", "20", "10## AB"), ("Rotterdam", "10", "30## CD"))),
)
COUNTRY_WEIGHTS = (45, 15, 10, 8, 8, 7, 7)
INDUSTRIES = {
    "Technology": ("Software", "Systems", "Labs", "Analytics", "Cloud"),
    "Manufacturing": ("Industries", "Manufacturing", "Components", "Fabrication"),
    "Healthcare": ("Health", "Medical", "Diagnostics", "Clinics"),
    "Financial Services": ("Capital", "Financial", "Insurance", "Partners"),
    "Retail": ("Outfitters", "Markets", "Goods", "Stores"),
    "Energy": ("Energy", "Power", "Solar", "Renewables"),
    "Logistics": ("Logistics", "Freight", "Shipping", "Transport"),
    "Education": ("Learning", "Academy", "Education"),
    "Hospitality": ("Hotels", "Resorts", "Hospitality"),
    "Media": ("Media", "Studios", "Publishing"),
}
COMPANY_WORDS = (
    "Northwind", "Blue Harbor", "Cedar Ridge", "Summit", "Atlas", "Pioneer", "Redwood",
    "Silverline", "Brightwater", "Ironwood", "Evergreen", "Lakeshore", "Granite", "Harborview",
    "Keystone", "Maple Leaf", "Oakmont", "Pinecrest", "Riverbend", "Sterling", "Sunrise",
    "Westfield", "Horizon", "Meridian", "Crescent", "Falcon", "Highland", "Juniper",
    "Kingsbridge", "Lighthouse", "Monarch", "Nova", "Orion", "Pacific Rim", "Quarry Hill",
    "Rosewood", "Sapphire", "Tidewater", "Vantage", "Willow Creek", "Zenith", "Aurora",
    "Beacon", "Cobalt", "Driftwood", "Emerald Bay", "Foxglove", "Greystone", "Hawthorne",
    "Larkspur")
STREETS = ("Market Street", "Main Street", "Harbor Road", "King Street", "Station Road",
           "Park Avenue", "Mill Lane", "Church Street", "Riverside Drive", "Elm Street",
           "Hauptstraße", "Rue de la République", "Keizersgracht", "George Street")
FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofia", "Lucas", "Amara", "Hiroshi",
    "Priya", "Arjun", "Wei", "Mei", "Fatima", "Omar", "Ingrid", "Lars", "Chiara", "Luca",
    "Zoe", "Ethan", "Isabella", "Kwame", "Aisha", "Diego", "Camila", "Yuki", "Sven", "Elena",
    "Tomasz", "Anna", "Jonas", "Leila", "Rafael", "Grace", "Daniel", "Hannah", "Samuel",
    "Nadia", "Marcus", "Chloé", "Björn", "Ana", "Ravi", "Sara", "Theo", "Maya")
LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Müller", "Schmidt", "Dubois", "Martin", "Rossi", "Tanaka",
    "Kim", "Patel", "Nguyen", "Okafor", "Andersson", "Kowalski", "Silva", "Cohen", "O'Brien",
    "Murphy", "Novak", "Fischer", "Moreau", "Bianchi", "Sato", "Singh", "Hernández", "Lopez",
    "Wilson", "Taylor", "Brown", "Jensen", "Haddad", "Mensah", "Costa", "Virtanen", "Yılmaz",
    "Ivanova", "Wang", "Li", "van Dijk", "Chen", "Walker", "Reyes", "Bauer", "Lindqvist")
TITLES = (("Chief Executive Officer", "Executive"), ("Chief Financial Officer", "Finance"),
          ("Chief Technology Officer", "Engineering"), ("VP of Sales", "Sales"),
          ("VP of Operations", "Operations"), ("Head of Procurement", "Procurement"),
          ("IT Director", "IT"), ("Operations Manager", "Operations"),
          ("Purchasing Manager", "Procurement"), ("Marketing Director", "Marketing"),
          ("Product Manager", "Product"), ("Customer Success Lead", "Customer Success"),
          ("Finance Controller", "Finance"), ("Systems Administrator", "IT"))
CALL_TIMES = ("08:30:00", "09:00:00", "10:00:00", "11:30:00", "13:00:00", "14:30:00",
              "16:00:00", "17:15:00")
LEAD_SOURCES = ("Web", "Referral", "Partner", "Trade Show", "Cold Call", "Advertisement")
CHANNELS = ("Email", "Phone", "SMS", "LinkedIn", "In person")
LOSS_REASONS = ("Price", "Product fit", "Timing", "Competitor", "No decision")
COMPETITORS = ("Salesforce", "HubSpot", "Pipedrive", "Zoho", "Microsoft Dynamics", "Other")
# stage: (weight, probability, forecast category)
STAGES = {
    "Prospecting": (14, 10, "Pipeline"), "Qualification": (12, 20, "Pipeline"),
    "Needs Analysis": (10, 35, "Best Case"), "Proposal": (12, 60, "Best Case"),
    "Negotiation": (10, 80, "Commit"), "Closed Won": (26, 100, "Closed"),
    "Closed Lost": (16, 0, "Omitted"),
}
DEAL_PURPOSES = ("Platform rollout", "Seat expansion", "Field team tablets", "Pilot",
                 "Data migration", "Support renewal", "Analytics upgrade", "Regional rollout",
                 "Training programme", "Warehouse scanners")
NEXT_STEPS = ("Send revised quote", "Schedule technical deep-dive", "Security review",
              "Agree pilot success criteria", "Meet the CFO", "Legal redlines",
              "Reference call", "Final pricing approval")
LEAD_STATUSES = (("Open - Not Contacted", 30), ("Working - Contacted", 35),
                 ("Closed - Converted", 20), ("Closed - Not Converted", 15))
TASK_SUBJECTS = {"Call": "Call {first} about {topic}", "Email": "Email {first} the {topic}",
                 "Meeting": "Meeting with {first}: {topic}", "Follow-up": "Follow up on {topic}",
                 "Demo": "Product demo for {company}"}
TASK_TOPICS = ("pricing", "proposal", "contract terms", "implementation plan",
               "renewal", "security questionnaire", "onboarding schedule", "quarterly review")

# ruff: noqa: E501 -- data: one sentence per line reads better than split strings
"""The words and places of the demo brand: stores, names, comments, queries, support messages.

Plain data, no logic. Every text exists in the brand's seven languages so each store's
customers speak their own language: it (Italian), cy (Welsh), ru, en, es, de, fr.
"""

LANGUAGES = ["it", "cy", "ru", "en", "es", "de", "fr"]

BRAND = {
    "name": "Bottega Aurora",
    "slug": "demo",
    "default_language": "en",
    "timezone": "Europe/Rome",
}

# Opening hours: weekday (0 = Monday) -> list of [start, end] intervals, local time.
_SHOP = {str(d): [["09:30", "19:30"]] for d in range(6)} | {"6": [["10:00", "18:00"]]}
_ITALY = {str(d): [["09:30", "13:00"], ["15:30", "19:30"]] for d in range(6)}  # closed Sunday
_SPAIN = {str(d): [["10:00", "14:00"], ["17:00", "21:00"]] for d in range(6)}  # closed Sunday
_RUSSIA = {str(d): [["10:00", "22:00"]] for d in range(7)}
_GERMANY = {str(d): [["10:00", "20:00"]] for d in range(6)}  # closed Sunday
_ONLINE = {str(d): [["00:00", "23:59"]] for d in range(7)}

# Regions and their stores. `weight` is the store's share of traffic; `quality` nudges its scores.
REGIONS = [
    {
        "name": "Italia",
        "code": "italia",
        "country": "IT",
        "timezone": "Europe/Rome",
        "languages": ["it"],
        "hours": _ITALY,
        "currency": "EUR",
        "stores": [
            ("Milano Centro", "milano", "Milano", "Corso Vittorio Emanuele II 12", 1.3, 0.03),
            ("Roma Trastevere", "roma", "Roma", "Viale di Trastevere 88", 1.2, 0.0),
            ("Napoli Toledo", "napoli", "Napoli", "Via Toledo 210", 1.0, -0.02),
            ("Firenze Duomo", "firenze", "Firenze", "Via dei Calzaiuoli 5", 0.9, 0.04),
            ("Torino Porta Nuova", "torino", "Torino", "Via Roma 301", 0.8, 0.0),
        ],
    },
    {
        "name": "Cymru / Wales",
        "code": "cymru",
        "country": "GB",
        "timezone": "Europe/London",
        "languages": ["cy", "en"],
        "hours": _SHOP,
        "currency": "GBP",
        "stores": [
            ("Caerdydd / Cardiff", "cardiff", "Cardiff", "Queen Street 41", 1.1, 0.02),
            ("Abertawe / Swansea", "swansea", "Swansea", "Oxford Street 17", 0.6, 0.0),
            ("Aberystwyth", "aberystwyth", "Aberystwyth", "Great Darkgate Street 9", 0.4, 0.05),
        ],
    },
    {
        "name": "Россия",
        "code": "rossiya",
        "country": "RU",
        "timezone": "Europe/Moscow",
        "languages": ["ru"],
        "hours": _RUSSIA,
        "currency": "RUB",
        "stores": [
            ("Москва Тверская", "moskva", "Москва", "ул. Тверская, 15", 1.2, -0.01),
            ("Санкт-Петербург Невский", "spb", "Санкт-Петербург", "Невский пр., 48", 1.0, 0.01),
        ],
    },
    {
        "name": "España",
        "code": "espana",
        "country": "ES",
        "timezone": "Europe/Madrid",
        "languages": ["es"],
        "hours": _SPAIN,
        "currency": "EUR",
        "stores": [
            ("Madrid Gran Vía", "madrid", "Madrid", "Gran Vía 32", 1.0, 0.0),
            (
                "Barcelona Passeig de Gràcia",
                "barcelona",
                "Barcelona",
                "Passeig de Gràcia 55",
                1.0,
                0.02,
            ),
        ],
    },
    {
        "name": "Deutschland",
        "code": "deutschland",
        "country": "DE",
        "timezone": "Europe/Berlin",
        "languages": ["de"],
        "hours": _GERMANY,
        "currency": "EUR",
        "stores": [
            ("Berlin Mitte", "berlin", "Berlin", "Rosenthaler Straße 40", 1.0, 0.01),
            ("München Marienplatz", "muenchen", "München", "Kaufingerstraße 9", 0.8, 0.03),
        ],
    },
    {
        "name": "France",
        "code": "france",
        "country": "FR",
        "timezone": "Europe/Paris",
        "languages": ["fr"],
        "hours": _GERMANY,
        "currency": "EUR",
        "stores": [
            ("Paris Le Marais", "paris", "Paris", "Rue des Francs-Bourgeois 27", 1.2, 0.0),
            ("Lyon Presqu'île", "lyon", "Lyon", "Rue de la République 60", 0.7, 0.02),
        ],
    },
]

ONLINE_SHOP = {
    "name": "Bottega Aurora Online",
    "code": "online",
    "country": "IT",
    "city": "Milano",
    "timezone": "Europe/Rome",
    "languages": LANGUAGES,
    "hours": _ONLINE,
    "currency": "EUR",
    "weight": 3.0,
    "quality": 0.0,
}

# Who shops online, by language (the online shop ships to every country above).
ONLINE_LANGUAGE_MIX = {
    "it": 0.32,
    "en": 0.16,
    "cy": 0.04,
    "ru": 0.12,
    "es": 0.12,
    "de": 0.14,
    "fr": 0.10,
}
COUNTRY_OF_LANGUAGE = {
    "it": "IT",
    "cy": "GB",
    "en": "GB",
    "ru": "RU",
    "es": "ES",
    "de": "DE",
    "fr": "FR",
}
CITIES_OF_COUNTRY = {
    "IT": ["Milano", "Roma", "Napoli", "Firenze", "Torino", "Bologna", "Bari", "Verona"],
    "GB": ["Cardiff", "Swansea", "Aberystwyth", "Newport", "Bangor", "Wrexham", "Bristol"],
    "RU": ["Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург"],
    "ES": ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao"],
    "DE": ["Berlin", "München", "Hamburg", "Köln", "Leipzig"],
    "FR": ["Paris", "Lyon", "Marseille", "Lille", "Bordeaux"],
}
CURRENCY_RATE = {"EUR": 1.0, "GBP": 0.85, "RUB": 95.0}

FAKER_LOCALE = {
    "it": "it_IT",
    "en": "en_GB",
    "ru": "ru_RU",
    "es": "es_ES",
    "de": "de_DE",
    "fr": "fr_FR",
}
PHONE_PREFIX = {"IT": "+39", "GB": "+44", "RU": "+7", "ES": "+34", "DE": "+49", "FR": "+33"}
MAIL_DOMAINS = ["posta.example", "mail.example", "inbox.example", "post.example", "web.example"]

# Faker has no Welsh locale: a small hand-written list.
WELSH_FIRST_FEMALE = [
    "Siân",
    "Cerys",
    "Ffion",
    "Nia",
    "Angharad",
    "Mared",
    "Elin",
    "Lowri",
    "Branwen",
    "Heledd",
    "Gwenllian",
    "Eluned",
    "Catrin",
    "Non",
    "Seren",
    "Manon",
]
WELSH_FIRST_MALE = [
    "Rhys",
    "Dafydd",
    "Gethin",
    "Iolo",
    "Owain",
    "Llŷr",
    "Ieuan",
    "Emyr",
    "Gruffydd",
    "Tomos",
    "Aled",
    "Huw",
    "Cai",
    "Osian",
    "Macsen",
    "Gwion",
]
WELSH_SURNAMES = [
    "Jones",
    "Williams",
    "Davies",
    "Evans",
    "Thomas",
    "Roberts",
    "Hughes",
    "Lewis",
    "Morgan",
    "Griffiths",
    "Pritchard",
    "Llywelyn",
    "Parry",
    "Price",
    "Owen",
    "Rees",
    "Jenkins",
    "Powell",
    "Vaughan",
    "ap Rhys",
    "Bowen",
    "Prosser",
]

# The demo's people. Every one signs in with settings.OPENCX_DEMO_PASSWORD.
USERS = [
    # email, first name, last name, language, role, location code (None: whole brand)
    ("owner@demo.opencx.org", "Aurora", "Bianchi", "it", "owner", None),
    ("cx@demo.opencx.org", "Chiara", "Conti", "en", "cx_manager", None),
    ("manager.cardiff@demo.opencx.org", "Rhys", "Evans", "cy", "location_manager", "cardiff"),
    ("agent@demo.opencx.org", "Marta", "López", "es", "agent", None),
    ("viewer@demo.opencx.org", "Jonas", "Weber", "de", "viewer", None),
]

# --- Surveys -------------------------------------------------------------------------------

SURVEYS = {
    "nps": {
        "name": "Store visit NPS",
        "touchpoint": "store",
        "question": {
            "it": "Quanto è probabile che consigli Bottega Aurora a un amico o a un collega?",
            "cy": "Pa mor debygol ydych chi o argymell Bottega Aurora i ffrind neu gydweithiwr?",
            "ru": "Насколько вероятно, что вы порекомендуете Bottega Aurora другу или коллеге?",
            "en": "How likely are you to recommend Bottega Aurora to a friend or colleague?",
            "es": "¿Qué probabilidad hay de que recomiendes Bottega Aurora a un amigo o colega?",
            "de": "Wie wahrscheinlich ist es, dass Sie Bottega Aurora einem Freund empfehlen?",
            "fr": "Quelle est la probabilité que vous recommandiez Bottega Aurora à un proche ?",
        },
        "follow_up": {
            "it": "Qual è il motivo principale del tuo voto?",
            "cy": "Beth yw'r prif reswm dros eich sgôr?",
            "ru": "Какова главная причина вашей оценки?",
            "en": "What is the main reason for your score?",
            "es": "¿Cuál es el motivo principal de tu puntuación?",
            "de": "Was ist der wichtigste Grund für Ihre Bewertung?",
            "fr": "Quelle est la raison principale de votre note ?",
        },
    },
    "csat": {
        "name": "Support CSAT",
        "touchpoint": "support",
        "question": {
            "it": "Quanto sei soddisfatto dell'assistenza che hai ricevuto?",
            "cy": "Pa mor fodlon ydych chi gyda'r cymorth a gawsoch?",
            "ru": "Насколько вы довольны полученной поддержкой?",
            "en": "How satisfied are you with the support you received?",
            "es": "¿Qué tan satisfecho estás con la atención recibida?",
            "de": "Wie zufrieden sind Sie mit der erhaltenen Unterstützung?",
            "fr": "Êtes-vous satisfait de l'assistance reçue ?",
        },
        "follow_up": {
            "it": "Come possiamo migliorare?",
            "cy": "Sut allwn ni wella?",
            "ru": "Что мы можем улучшить?",
            "en": "How can we improve?",
            "es": "¿Cómo podemos mejorar?",
            "de": "Was können wir besser machen?",
            "fr": "Comment pouvons-nous nous améliorer ?",
        },
    },
    "ces": {
        "name": "Returns effort (CES)",
        "touchpoint": "delivery",
        "question": {
            "it": "Restituire il mio articolo è stato facile.",
            "cy": "Roedd hi'n hawdd dychwelyd fy eitem.",
            "ru": "Вернуть товар было легко.",
            "en": "Returning my item was easy.",
            "es": "Devolver mi artículo fue fácil.",
            "de": "Die Rücksendung meines Artikels war einfach.",
            "fr": "Retourner mon article a été facile.",
        },
        "follow_up": {
            "it": "Cosa ha reso il reso facile o difficile?",
            "cy": "Beth wnaeth y dychwelyd yn hawdd neu'n anodd?",
            "ru": "Что сделало возврат простым или сложным?",
            "en": "What made the return easy or hard?",
            "es": "¿Qué hizo que la devolución fuera fácil o difícil?",
            "de": "Was hat die Rücksendung leicht oder schwer gemacht?",
            "fr": "Qu'est-ce qui a rendu le retour facile ou difficile ?",
        },
    },
}

# --- Comments, by topic and language --------------------------------------------------------
# Topics: what a customer talks about. Analytics must find them from the words alone.
POSITIVE_TOPICS = ["staff", "quality", "fast"]
NEUTRAL_TOPICS = ["selection", "price"]
NEGATIVE_TOPICS = ["returns", "waiting", "delivery", "price", "website", "selection"]

COMMENTS = {
    "staff": {
        "it": [
            "Personale gentilissimo e disponibile, grazie!",
            "Commessa cordiale e preparata, mi ha consigliato benissimo.",
        ],
        "cy": [
            "Staff cyfeillgar iawn, diolch yn fawr!",
            "Roedd y staff yn garedig ac yn barod i helpu.",
        ],
        "ru": [
            "Очень приветливый и внимательный персонал, спасибо!",
            "Продавец-консультант была очень дружелюбной и помогла с выбором.",
        ],
        "en": [
            "Really friendly staff, thank you!",
            "The staff were lovely and so helpful choosing a gift.",
        ],
        "es": [
            "Personal muy amable y atento, ¡gracias!",
            "La dependienta fue encantadora y me aconsejó muy bien.",
        ],
        "de": [
            "Sehr freundliches und hilfsbereites Personal, danke!",
            "Die Verkäuferin war herzlich und hat mich toll beraten.",
        ],
        "fr": [
            "Personnel très aimable et serviable, merci !",
            "La vendeuse était charmante et de très bon conseil.",
        ],
    },
    "quality": {
        "it": [
            "Qualità ottima, la borsa è bellissima.",
            "Prodotti di grande qualità, tornerò sicuramente.",
        ],
        "cy": [
            "Ansawdd ardderchog, rwy'n hapus iawn gyda fy mhrynu.",
            "Nwyddau o safon uchel, byddaf yn dod yn ôl.",
        ],
        "ru": [
            "Отличное качество, сумка просто прекрасная.",
            "Качественные вещи, обязательно вернусь.",
        ],
        "en": [
            "Excellent quality, the bag is beautiful.",
            "Great quality products, I will definitely be back.",
        ],
        "es": [
            "Calidad excelente, el bolso es precioso.",
            "Productos de gran calidad, volveré seguro.",
        ],
        "de": [
            "Hervorragende Qualität, die Tasche ist wunderschön.",
            "Tolle Qualität, ich komme sicher wieder.",
        ],
        "fr": [
            "Qualité excellente, le sac est magnifique.",
            "Des produits de grande qualité, je reviendrai.",
        ],
    },
    "fast": {
        "it": ["Servizio veloce ed efficiente.", "Tutto rapido e senza problemi."],
        "cy": ["Gwasanaeth cyflym ac effeithlon.", "Roedd popeth yn gyflym ac yn hawdd."],
        "ru": ["Быстрое и чёткое обслуживание.", "Всё быстро и без проблем."],
        "en": ["Quick and efficient service.", "Everything was fast and easy."],
        "es": ["Servicio rápido y eficiente.", "Todo rápido y sin complicaciones."],
        "de": ["Schneller und effizienter Service.", "Alles ging schnell und unkompliziert."],
        "fr": ["Service rapide et efficace.", "Tout était rapide et simple."],
    },
    "selection": {
        "it": [
            "Bella scelta, ma mancava la mia taglia.",
            "Negozio carino, vorrei più varietà di colori.",
        ],
        "cy": ["Dewis da, ond doedd dim fy maint i.", "Siop braf, ond hoffwn weld mwy o ddewis."],
        "ru": [
            "Хороший выбор, но не было моего размера.",
            "Приятный магазин, но хотелось бы больше цветов.",
        ],
        "en": [
            "Nice range, but my size was out of stock.",
            "Lovely shop, would like more choice of colours.",
        ],
        "es": [
            "Buen surtido, pero no tenían mi talla.",
            "Tienda bonita, me gustaría más variedad de colores.",
        ],
        "de": [
            "Schöne Auswahl, aber meine Größe fehlte.",
            "Netter Laden, ich wünsche mir mehr Farben.",
        ],
        "fr": [
            "Joli choix, mais ma taille manquait.",
            "Boutique agréable, j'aimerais plus de couleurs.",
        ],
    },
    "price": {
        "it": ["Un po' caro per quello che è.", "Prezzi un po' alti rispetto alla concorrenza."],
        "cy": [
            "Ychydig yn ddrud am yr hyn ydyw.",
            "Prisiau braidd yn uchel o'u cymharu ag eraill.",
        ],
        "ru": ["Дороговато для такого товара.", "Цены выше, чем у конкурентов."],
        "en": ["A bit expensive for what it is.", "Prices are higher than elsewhere."],
        "es": ["Algo caro para lo que es.", "Precios algo altos comparados con otras tiendas."],
        "de": ["Etwas teuer für das, was es ist.", "Die Preise sind höher als anderswo."],
        "fr": ["Un peu cher pour ce que c'est.", "Prix plus élevés qu'ailleurs."],
    },
    "waiting": {
        "it": [
            "Ho aspettato più di mezz'ora alla cassa, troppa attesa.",
            "Coda lunghissima e un solo commesso, attesa infinita.",
        ],
        "cy": [
            "Bu'n rhaid aros yn hir iawn wrth y til, dros hanner awr.",
            "Ciw hir a dim ond un person yn gweini, aros am oes.",
        ],
        "ru": [
            "Ждала на кассе больше получаса, слишком долгое ожидание.",
            "Огромная очередь и один продавец, ждать пришлось вечность.",
        ],
        "en": [
            "Waited over half an hour at the till, far too long.",
            "Huge queue and only one person serving, the wait was endless.",
        ],
        "es": [
            "Esperé más de media hora en caja, demasiada espera.",
            "Cola enorme y un solo dependiente, una espera eterna.",
        ],
        "de": [
            "Über eine halbe Stunde an der Kasse gewartet, viel zu lange.",
            "Lange Schlange und nur eine Verkäuferin, endlose Wartezeit.",
        ],
        "fr": [
            "Attendu plus d'une demi-heure en caisse, beaucoup trop long.",
            "File d'attente énorme et un seul vendeur, une attente interminable.",
        ],
    },
    "returns": {
        "it": [
            "Il reso è stato complicatissimo e il rimborso non è ancora arrivato.",
            "Procedura di reso assurda, rimborso dopo tre settimane.",
        ],
        "cy": [
            "Roedd dychwelyd yr eitem yn gymhleth ac mae'r ad-daliad yn dal heb gyrraedd.",
            "Proses dychwelyd ofnadwy, dim ad-daliad ar ôl tair wythnos.",
        ],
        "ru": [
            "Возврат оказался очень сложным, деньги до сих пор не вернули.",
            "Ужасная процедура возврата, возврат денег через три недели.",
        ],
        "en": [
            "Returning the item was a nightmare and I am still waiting for my refund.",
            "Awful returns process, refund took three weeks.",
        ],
        "es": [
            "La devolución fue complicadísima y el reembolso aún no ha llegado.",
            "Proceso de devolución horrible, reembolso tras tres semanas.",
        ],
        "de": [
            "Die Rückgabe war kompliziert und die Erstattung ist immer noch nicht da.",
            "Furchtbarer Rückgabeprozess, Erstattung erst nach drei Wochen.",
        ],
        "fr": [
            "Le retour a été très compliqué et le remboursement n'est toujours pas arrivé.",
            "Procédure de retour pénible, remboursement au bout de trois semaines.",
        ],
    },
    "delivery": {
        "it": [
            "Il pacco è arrivato con una settimana di ritardo.",
            "Consegna in ritardo e nessun aggiornamento sulla spedizione.",
        ],
        "cy": [
            "Cyrhaeddodd y parsel wythnos yn hwyr.",
            "Danfoniad hwyr iawn a dim diweddariad am y llwyth.",
        ],
        "ru": [
            "Посылка пришла с опозданием на неделю.",
            "Доставка опоздала, и никаких новостей об отправке.",
        ],
        "en": ["The parcel arrived a week late.", "Late delivery and no updates on the shipment."],
        "es": [
            "El paquete llegó con una semana de retraso.",
            "Entrega con retraso y sin noticias del envío.",
        ],
        "de": [
            "Das Paket kam eine Woche zu spät.",
            "Lieferung verspätet und keine Info zur Sendung.",
        ],
        "fr": [
            "Le colis est arrivé avec une semaine de retard.",
            "Livraison en retard et aucune nouvelle de l'envoi.",
        ],
    },
    "website": {
        "it": [
            "Le spese di spedizione compaiono solo al pagamento, così ho rinunciato.",
            "Il checkout si blocca alla pagina del pagamento.",
        ],
        "cy": [
            "Roedd y costau cludo yn ymddangos dim ond wrth dalu, felly gadewais.",
            "Aeth y dudalen dalu yn sownd wrth archebu.",
        ],
        "ru": [
            "Стоимость доставки видна только при оплате, поэтому я передумала.",
            "Оформление заказа зависает на странице оплаты.",
        ],
        "en": [
            "Shipping costs only show up at payment, so I gave up.",
            "Checkout kept freezing on the payment page.",
        ],
        "es": [
            "Los gastos de envío solo aparecen al pagar, así que lo dejé.",
            "El pago se queda colgado en la página de pago.",
        ],
        "de": [
            "Die Versandkosten erscheinen erst bei der Zahlung, also habe ich abgebrochen.",
            "Der Checkout hängt auf der Zahlungsseite.",
        ],
        "fr": [
            "Les frais de livraison n'apparaissent qu'au paiement, j'ai abandonné.",
            "Le paiement bloque sur la page de règlement.",
        ],
    },
    "support_good": {
        "it": [
            "Risposta rapida e utile dal servizio clienti.",
            "Problema risolto subito, grazie all'assistenza.",
        ],
        "cy": [
            "Cefais ateb cyflym a defnyddiol gan y tîm cymorth.",
            "Datryswyd fy mhroblem ar unwaith, diolch.",
        ],
        "ru": [
            "Быстрый и полезный ответ от службы поддержки.",
            "Проблему решили сразу, спасибо поддержке.",
        ],
        "en": [
            "Quick, helpful answer from customer service.",
            "Problem solved straight away, thanks to support.",
        ],
        "es": [
            "Respuesta rápida y útil del servicio de atención.",
            "Problema resuelto enseguida, gracias al soporte.",
        ],
        "de": [
            "Schnelle, hilfreiche Antwort vom Kundenservice.",
            "Problem sofort gelöst, danke an den Support.",
        ],
        "fr": [
            "Réponse rapide et utile du service client.",
            "Problème réglé tout de suite, merci au support.",
        ],
    },
    "support_slow": {
        "it": [
            "Ho aspettato giorni una risposta alla mia email.",
            "Nessuno rispondeva, ho dovuto scrivere tre volte.",
        ],
        "cy": [
            "Aros dyddiau am ateb i fy e-bost.",
            "Doedd neb yn ateb, roedd rhaid i mi ysgrifennu dair gwaith.",
        ],
        "ru": [
            "Ждала ответа на письмо несколько дней.",
            "Никто не отвечал, пришлось писать три раза.",
        ],
        "en": [
            "Waited days for a reply to my email.",
            "Nobody answered, I had to write three times.",
        ],
        "es": [
            "Esperé días una respuesta a mi correo.",
            "Nadie respondía, tuve que escribir tres veces.",
        ],
        "de": [
            "Tagelang auf eine Antwort auf meine E-Mail gewartet.",
            "Niemand hat geantwortet, ich musste dreimal schreiben.",
        ],
        "fr": [
            "J'ai attendu des jours une réponse à mon e-mail.",
            "Personne ne répondait, j'ai dû écrire trois fois.",
        ],
    },
    "returns_easy": {
        "it": [
            "Reso facilissimo e rimborso veloce.",
            "Procedura di reso semplice, nessun problema.",
        ],
        "cy": [
            "Roedd dychwelyd yn hawdd iawn a daeth yr ad-daliad yn gyflym.",
            "Proses dychwelyd syml, dim trafferth.",
        ],
        "ru": [
            "Вернуть товар было очень просто, деньги пришли быстро.",
            "Простая процедура возврата, никаких проблем.",
        ],
        "en": [
            "Really easy return and a quick refund.",
            "Simple returns process, no hassle at all.",
        ],
        "es": [
            "Devolución facilísima y reembolso rápido.",
            "Proceso de devolución sencillo, sin problemas.",
        ],
        "de": [
            "Ganz einfache Rückgabe und schnelle Erstattung.",
            "Unkomplizierte Rücksendung, kein Aufwand.",
        ],
        "fr": [
            "Retour très facile et remboursement rapide.",
            "Procédure de retour simple, aucun souci.",
        ],
    },
}

REVIEW_TITLES = {
    "good": {
        "it": ["Ottimo negozio", "Consigliatissimo"],
        "cy": ["Siop wych", "Argymell yn fawr"],
        "ru": ["Отличный магазин", "Рекомендую"],
        "en": ["Lovely shop", "Highly recommend"],
        "es": ["Tienda estupenda", "Muy recomendable"],
        "de": ["Toller Laden", "Sehr empfehlenswert"],
        "fr": ["Super boutique", "Je recommande"],
    },
    "neutral": {
        "it": ["Nella media"],
        "cy": ["Iawn"],
        "ru": ["Нормально"],
        "en": ["Okay"],
        "es": ["Normal"],
        "de": ["Ganz okay"],
        "fr": ["Correct"],
    },
    "bad": {
        "it": ["Deluso", "Da evitare"],
        "cy": ["Siomedig", "Ddim yn hapus"],
        "ru": ["Разочарован", "Не советую"],
        "en": ["Disappointed", "Not good enough"],
        "es": ["Decepcionado", "No lo recomiendo"],
        "de": ["Enttäuscht", "Nicht zu empfehlen"],
        "fr": ["Déçu", "À éviter"],
    },
}

HASHTAGS = ["#BottegaAurora", "#shopping", "#leather", "#madeinitaly", "@bottegaaurora"]

# --- Web shop -------------------------------------------------------------------------------

CATEGORIES = ["borse", "scarpe", "portafogli", "cinture", "zaini", "accessori"]
PRODUCTS = [
    "borsa-tote-aurora",
    "borsa-a-tracolla-luna",
    "zaino-viaggio",
    "sneaker-bianca",
    "mocassino-classico",
    "stivaletto-chelsea",
    "portafoglio-slim",
    "cintura-intrecciata",
    "sciarpa-seta",
    "porta-carte",
    "borsa-weekend",
    "sandalo-estate",
]
SEARCH_QUERIES = {
    "it": [
        "borsa a tracolla nera",
        "scarpe donna",
        "portafoglio uomo",
        "cintura in pelle",
        "zaino",
        "saldi",
        "sneakers bianche",
    ],
    "cy": ["bag lledr", "esgidiau merched", "waled", "bag cefn", "sêl"],
    "ru": ["кожаная сумка", "белые кроссовки", "мужской кошелёк", "ремень", "рюкзак", "распродажа"],
    "en": [
        "black leather bag",
        "white trainers",
        "mens wallet",
        "leather belt",
        "backpack",
        "sale",
        "gift for her",
    ],
    "es": [
        "bolso de piel negro",
        "zapatillas blancas",
        "cartera hombre",
        "cinturón",
        "mochila",
        "rebajas",
    ],
    "de": [
        "schwarze Ledertasche",
        "weiße Sneaker",
        "Geldbörse Herren",
        "Ledergürtel",
        "Rucksack",
        "Sale",
    ],
    "fr": [
        "sac en cuir noir",
        "baskets blanches",
        "portefeuille homme",
        "ceinture cuir",
        "sac à dos",
        "soldes",
    ],
}
# The checkout, step by step; each event's `path` names the step.
CHECKOUT_STEPS = ["cart", "shipping", "payment", "review"]

# --- Support conversations ------------------------------------------------------------------
# Intent -> language -> (subject, first customer message)
SUPPORT_OPENERS = {
    "order_status": {
        "it": (
            "Dov'è il mio ordine?",
            "Buongiorno, ho ordinato dieci giorni fa e il pacco non è ancora arrivato. Potete controllare?",
        ),
        "cy": (
            "Ble mae fy archeb?",
            "Helo, archebais i ddeg diwrnod yn ôl a dyw'r parsel heb gyrraedd. Allwch chi wirio?",
        ),
        "ru": (
            "Где мой заказ?",
            "Здравствуйте, я оформила заказ десять дней назад, а посылки всё нет. Проверьте, пожалуйста.",
        ),
        "en": (
            "Where is my order?",
            "Hi, I ordered ten days ago and the parcel still hasn't arrived. Could you check?",
        ),
        "es": (
            "¿Dónde está mi pedido?",
            "Hola, hice el pedido hace diez días y el paquete no ha llegado. ¿Podéis revisarlo?",
        ),
        "de": (
            "Wo ist meine Bestellung?",
            "Hallo, ich habe vor zehn Tagen bestellt und das Paket ist noch nicht da. Können Sie nachsehen?",
        ),
        "fr": (
            "Où est ma commande ?",
            "Bonjour, j'ai commandé il y a dix jours et le colis n'est toujours pas arrivé. Pouvez-vous vérifier ?",
        ),
    },
    "return_request": {
        "it": (
            "Reso di un articolo",
            "Vorrei restituire delle scarpe, sono troppo strette. Come faccio il reso?",
        ),
        "cy": (
            "Dychwelyd eitem",
            "Hoffwn ddychwelyd pâr o esgidiau, maen nhw'n rhy fach. Sut mae gwneud hynny?",
        ),
        "ru": ("Возврат товара", "Хочу вернуть туфли, они малы. Как оформить возврат?"),
        "en": (
            "Returning an item",
            "I'd like to return a pair of shoes, they're too small. How do I do that?",
        ),
        "es": (
            "Devolución de un artículo",
            "Quiero devolver unos zapatos, me quedan pequeños. ¿Cómo hago la devolución?",
        ),
        "de": (
            "Rücksendung",
            "Ich möchte ein Paar Schuhe zurückgeben, sie sind zu klein. Wie funktioniert die Rückgabe?",
        ),
        "fr": (
            "Retour d'un article",
            "Je voudrais retourner des chaussures, elles sont trop petites. Comment faire le retour ?",
        ),
    },
    "refund_missing": {
        "it": (
            "Rimborso non ricevuto",
            "Ho restituito una borsa tre settimane fa ma il rimborso non è ancora arrivato.",
        ),
        "cy": (
            "Dim ad-daliad",
            "Dychwelais fag dair wythnos yn ôl ond dw i heb gael yr ad-daliad eto.",
        ),
        "ru": (
            "Не пришли деньги за возврат",
            "Я вернула сумку три недели назад, но деньги так и не пришли.",
        ),
        "en": (
            "Refund not received",
            "I returned a bag three weeks ago but the refund still hasn't come through.",
        ),
        "es": (
            "Reembolso no recibido",
            "Devolví un bolso hace tres semanas y todavía no tengo el reembolso.",
        ),
        "de": (
            "Erstattung fehlt",
            "Ich habe vor drei Wochen eine Tasche zurückgeschickt, aber die Erstattung fehlt noch.",
        ),
        "fr": (
            "Remboursement non reçu",
            "J'ai renvoyé un sac il y a trois semaines et je n'ai toujours pas été remboursée.",
        ),
    },
    "product_question": {
        "it": (
            "Domanda su un prodotto",
            "Ciao, la borsa Luna è disponibile anche in nero? E in quale negozio?",
        ),
        "cy": ("Cwestiwn am gynnyrch", "Helo, ydy'r bag Luna ar gael mewn du? Ac ym mha siop?"),
        "ru": (
            "Вопрос о товаре",
            "Здравствуйте, сумка Luna есть в чёрном цвете? В каком магазине?",
        ),
        "en": ("Product question", "Hi, is the Luna bag available in black? And in which shop?"),
        "es": (
            "Pregunta sobre un producto",
            "Hola, ¿el bolso Luna está disponible en negro? ¿En qué tienda?",
        ),
        "de": (
            "Frage zu einem Produkt",
            "Hallo, gibt es die Tasche Luna auch in Schwarz? Und in welchem Laden?",
        ),
        "fr": (
            "Question sur un produit",
            "Bonjour, le sac Luna existe-t-il en noir ? Et dans quelle boutique ?",
        ),
    },
}
SUPPORT_REPLIES = {
    "order_status": {
        "it": "Ciao {name}, ci scusiamo per il ritardo: il corriere ha avuto problemi, il pacco arriverà entro due giorni.",
        "cy": "Helo {name}, mae'n ddrwg gennym am yr oedi: cafodd y cludwr broblemau, bydd y parsel yn cyrraedd o fewn deuddydd.",
        "ru": "Здравствуйте, {name}! Приносим извинения за задержку: у курьерской службы были проблемы, посылка придёт через два дня.",
        "en": "Hi {name}, sorry for the delay: our courier had problems and the parcel will arrive within two days.",
        "es": "Hola {name}, perdona el retraso: la mensajería tuvo problemas y el paquete llegará en dos días.",
        "de": "Hallo {name}, entschuldigen Sie die Verzögerung: Der Paketdienst hatte Probleme, das Paket kommt in zwei Tagen.",
        "fr": "Bonjour {name}, désolés pour le retard : le transporteur a eu des soucis, le colis arrivera sous deux jours.",
    },
    "return_request": {
        "it": "Ciao {name}, puoi fare il reso gratuito in negozio o stampare l'etichetta dal tuo account.",
        "cy": "Helo {name}, gallwch ddychwelyd am ddim mewn siop neu argraffu'r label o'ch cyfrif.",
        "ru": "Здравствуйте, {name}! Вернуть товар можно бесплатно в магазине или распечатав этикетку в личном кабинете.",
        "en": "Hi {name}, you can return it free in any shop or print the label from your account.",
        "es": "Hola {name}, puedes devolverlo gratis en tienda o imprimir la etiqueta desde tu cuenta.",
        "de": "Hallo {name}, Sie können kostenlos im Laden zurückgeben oder das Etikett in Ihrem Konto drucken.",
        "fr": "Bonjour {name}, vous pouvez le retourner gratuitement en boutique ou imprimer l'étiquette depuis votre compte.",
    },
    "refund_missing": {
        "it": "Ciao {name}, ho verificato: il rimborso è stato emesso oggi, lo vedrai entro 3-5 giorni.",
        "cy": "Helo {name}, rwyf wedi gwirio: anfonwyd yr ad-daliad heddiw, fe'i gwelwch o fewn 3-5 diwrnod.",
        "ru": "Здравствуйте, {name}! Я проверила: возврат средств оформлен сегодня, деньги придут в течение 3–5 дней.",
        "en": "Hi {name}, I've checked: the refund was issued today, you'll see it within 3-5 days.",
        "es": "Hola {name}, lo he comprobado: el reembolso se ha emitido hoy, lo verás en 3-5 días.",
        "de": "Hallo {name}, ich habe nachgesehen: Die Erstattung wurde heute veranlasst, sie kommt in 3-5 Tagen.",
        "fr": "Bonjour {name}, j'ai vérifié : le remboursement a été émis aujourd'hui, comptez 3 à 5 jours.",
    },
    "product_question": {
        "it": "Ciao {name}, sì! La borsa Luna in nero è disponibile online e a Milano Centro.",
        "cy": "Helo {name}, ydy! Mae'r bag Luna mewn du ar gael ar-lein ac yng Nghaerdydd.",
        "ru": "Здравствуйте, {name}! Да, сумка Luna в чёрном цвете есть онлайн и в магазине на Тверской.",
        "en": "Hi {name}, yes! The Luna bag in black is available online and in Cardiff.",
        "es": "Hola {name}, ¡sí! El bolso Luna en negro está disponible online y en Gran Vía.",
        "de": "Hallo {name}, ja! Die Tasche Luna in Schwarz gibt es online und in Berlin Mitte.",
        "fr": "Bonjour {name}, oui ! Le sac Luna en noir est disponible en ligne et au Marais.",
    },
}
SUPPORT_THANKS = {
    "it": "Grazie mille!",
    "cy": "Diolch yn fawr!",
    "ru": "Большое спасибо!",
    "en": "Thanks a lot!",
    "es": "¡Muchas gracias!",
    "de": "Vielen Dank!",
    "fr": "Merci beaucoup !",
}
SUPPORT_NUDGE = {
    "it": "Ci sono novità? Aspetto ancora una risposta.",
    "cy": "Oes unrhyw newyddion? Dw i'n dal i aros am ateb.",
    "ru": "Есть новости? Я всё ещё жду ответа.",
    "en": "Any news? I'm still waiting for an answer.",
    "es": "¿Hay novedades? Sigo esperando una respuesta.",
    "de": "Gibt es Neuigkeiten? Ich warte noch auf eine Antwort.",
    "fr": "Des nouvelles ? J'attends toujours une réponse.",
}
INTERNAL_NOTES = [
    "Checked with the warehouse: parcel stuck at the courier hub.",
    "Refund approved, sent to finance.",
    "Customer is a regular at the store, offer a voucher.",
]

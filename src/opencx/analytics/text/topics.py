"""A per-brand topic taxonomy (seeded with CX topics, editable) and emerging-theme discovery.

Assignment works across languages: each topic has seed words per language (a seed matches the
start of a word, so `friendl` finds "friendly" and "friendliness"; a seed ending in `=` must be
the whole word) and descriptions in several languages whose embeddings form the topic's
prototype. A text gets a topic when a seed of its language (or English, for mixed text) occurs,
or when its embedding is close enough to the topic's prototype.

`discover_themes` clusters texts (usually those no topic caught) with seeded k-means on their
embeddings and returns each cluster with its representative texts and suggested names, for a
person to name and adopt with `Taxonomy.with_topic`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from opencx.analytics.text.features import normalize
from opencx.analytics.text.keyphrases import distinctive_phrases

_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class TaxonomyError(ValueError):
    """An invalid topic or taxonomy (the message names the field)."""


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    name: str
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    descriptions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _SLUG.match(self.id):
            raise TaxonomyError(f"id: {self.id!r} must be lower-case letters, digits and _")
        if not self.name.strip():
            raise TaxonomyError("name: must not be empty")
        for lang, words in self.keywords.items():
            if not isinstance(words, tuple) or not all(isinstance(w, str) for w in words):
                raise TaxonomyError(f"keywords.{lang}: must be a tuple of strings")
            if any(not w.strip("= ") for w in words):
                raise TaxonomyError(f"keywords.{lang}: empty keyword")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "keywords": {lang: list(words) for lang, words in self.keywords.items()},
            "descriptions": list(self.descriptions),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Topic:
        try:
            keywords = {str(k): tuple(v) for k, v in dict(raw.get("keywords", {})).items()}
            return cls(
                id=str(raw["id"]),
                name=str(raw["name"]),
                keywords=keywords,
                descriptions=tuple(str(d) for d in raw.get("descriptions", ())),
            )
        except KeyError as exc:
            raise TaxonomyError(f"{exc.args[0]}: missing") from None


@dataclass(frozen=True, slots=True)
class Taxonomy:
    topics: tuple[Topic, ...]

    def __post_init__(self) -> None:
        ids = [t.id for t in self.topics]
        if len(ids) != len(set(ids)):
            raise TaxonomyError("topics: two topics share an id")

    @classmethod
    def seed(cls) -> Taxonomy:
        return cls(SEED_TOPICS)

    def get(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)

    def with_topic(self, topic: Topic) -> Taxonomy:
        """Add `topic` at the end, or replace the topic with its id in place."""
        if any(t.id == topic.id for t in self.topics):
            return Taxonomy(tuple(topic if t.id == topic.id else t for t in self.topics))
        return Taxonomy((*self.topics, topic))

    def without(self, topic_id: str) -> Taxonomy:
        return Taxonomy(tuple(t for t in self.topics if t.id != topic_id))

    def with_keywords(self, topic_id: str, language: str, words: Iterable[str]) -> Taxonomy:
        topic = self.get(topic_id)
        keywords = dict(topic.keywords)
        keywords[language] = tuple(dict.fromkeys((*keywords.get(language, ()), *words)))
        return self.with_topic(replace(topic, keywords=keywords))

    def to_json(self) -> str:
        return json.dumps([t.to_dict() for t in self.topics], ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Taxonomy:
        items = json.loads(raw)
        if not isinstance(items, list):
            raise TaxonomyError("topics: expected a list")
        return cls(tuple(Topic.from_dict(item) for item in items))


def _kw(**by_lang: str) -> dict[str, tuple[str, ...]]:
    return {lang: tuple(w.strip() for w in words.split(",")) for lang, words in by_lang.items()}


SEED_TOPICS: tuple[Topic, ...] = (
    Topic(
        "staff_friendliness",
        "Staff friendliness",
        _kw(
            en="staff,employee,friendl,unfriendl,rude,helpful,unhelpful,polite,impolite,cashier,"
            "customer service,service was,attitude,manager",
            it="personale,gentil,scortes,cortes,commess,dipendent,maleducat,cordial",
            es="personal=,amable,antipátic,grosero,empleado,dependient,atención al cliente,trato",
            fr="personnel,aimable,impoli,souriant,vendeu,employé,accueil,serviable,désagréable",
            de="personal=,freundlich,unfreundlich,mitarbeiter,verkäufer,höflich,bedienung,"
            "kundenservice,hilfsbereit",
            pt="funcionári,atendente,simpátic,educad,grosse,atendimento,prestativ",
            ru="персонал,сотрудник,вежлив,груб,продав,хамств,хамил,приветлив,консультант",
            cy="staff,cyfeillgar,cwrtais,gweithwyr,anghwrtais,gwasanaeth",
        ),
        (
            "The staff were friendly and helpful, or rude and unhelpful.",
            "Il personale è stato gentile oppure scortese.",
            "El personal fue amable o grosero.",
            "Le personnel était aimable ou désagréable.",
            "Die Mitarbeiter waren freundlich oder unfreundlich.",
            "Os funcionários foram simpáticos ou mal-educados.",
            "Персонал был вежливым или грубым.",
            "Roedd y staff yn gyfeillgar.",
        ),
    ),
    Topic(
        "waiting_time",
        "Waiting time",
        _kw(
            en="wait,queue,slow,took ages,took forever,long line,delay",
            it="attesa,coda,aspett,lent,ritard",
            es="espera,cola=,esperar,esperé,lent,tarda,demora",
            fr="attente,attendre,attendu,queue,lent,file d'attente,retard",
            de="warte,gewartet,schlange,langsam,dauert,verspätung,verzögerung",
            pt="espera,fila,demor,lent,aguard",
            ru="ожидан,очеред,долго,ждал,ждать,медлен,задерж",
            cy="aros,ciw,araf,oedi",
        ),
        (
            "We had to wait a long time in the queue.",
            "Abbiamo aspettato troppo in coda.",
            "Tuvimos que esperar mucho en la cola.",
            "Nous avons attendu longtemps dans la file d'attente.",
            "Wir mussten lange in der Schlange warten.",
            "Esperamos muito tempo na fila.",
            "Пришлось долго ждать в очереди.",
            "Roedd rhaid aros yn hir yn y ciw.",
        ),
    ),
    Topic(
        "price",
        "Price",
        _kw(
            en="price,pricey,expensive,cheap,cost=,costs=,overpriced,value for money,affordable",
            it="prezz,caro=,cari=,costos,economic,convenient",
            es="precio,caro=,caros=,barato,costos,económic",
            fr="prix,cher=,chers=,chère,coût,bon marché,abordable",
            de="preis,teuer,billig,günstig,kosten,überteuert",
            pt="preço,preco,caro=,caros=,barato,custo",
            ru="цен,дорог,дешев,дешёв,стоимост,переплат",
            cy="pris,phris,drud,ddrud,rhad",
        ),
        (
            "The prices are too expensive, not good value for money.",
            "I prezzi sono troppo cari.",
            "Los precios son demasiado caros.",
            "Les prix sont trop chers.",
            "Die Preise sind zu teuer.",
            "Os preços são muito caros.",
            "Цены слишком высокие.",
            "Mae'r prisiau yn rhy ddrud.",
        ),
    ),
    Topic(
        "product_quality",
        "Product quality",
        _kw(
            en="quality,broke=,broken,defect,faulty,durable,poorly made,fell apart,stopped working",
            it="qualità,difett,rott,guast,si è rotto",
            es="calidad,defectuos,roto=,rota=,estropea,se rompió",
            fr="qualité,défectu,cassé,abîmé,en panne",
            de="qualität,kaputt,defekt,mangelhaft,verarbeitung",
            pt="qualidade,defeito,quebrad,estragad,com defeito",
            ru="качеств,брак=,сломал,дефект,бракован",
            cy="ansawdd,wedi torri,diffygiol",
        ),
        (
            "The product quality is poor, it broke after a week.",
            "La qualità del prodotto è scarsa, si è rotto subito.",
            "La calidad del producto es mala, se rompió.",
            "La qualité du produit est mauvaise, il est cassé.",
            "Die Qualität des Produkts ist schlecht, es ist kaputt.",
            "A qualidade do produto é ruim, quebrou.",
            "Качество товара плохое, он сломался.",
            "Mae ansawdd y cynnyrch yn wael.",
        ),
    ),
    Topic(
        "cleanliness",
        "Cleanliness",
        _kw(
            en="clean,dirty,filthy,hygien,smell,stink,toilet,messy",
            it="pulit,pulizia,sporc,igien,puzza",
            es="limpi,sucio,sucia,suciedad,higien,olor",
            fr="propre,propreté,sale=,sales=,saleté,hygiène,odeur",
            de="sauber,schmutzig,dreckig,hygien,gestank,stinkt",
            pt="limp,sujo,suja,sujeira,higien,cheiro",
            ru="чист,грязн,гигиен,воня,запах",
            cy="glân,lân,glan=,budr,fudr,brwnt,frwnt",  # with soft mutations
        ),
        (
            "The store was dirty, the toilets were not clean.",
            "Il negozio era sporco.",
            "La tienda estaba sucia.",
            "Le magasin était sale.",
            "Der Laden war schmutzig.",
            "A loja estava suja.",
            "В магазине было грязно.",
            "Roedd y siop yn fudr.",
        ),
    ),
    Topic(
        "delivery",
        "Delivery",
        _kw(
            en="deliver,shipping,shipment,courier,parcel,package,dispatch,arrived late,tracking",
            it="consegn,spedizion,spedit,corriere,pacco",
            es="entrega,envío,envio,mensajer,paquete,repartidor",
            fr="livr,colis,expédi,transporteur,livreur",
            de="lieferung,geliefert,liefer,versand,paket,zustell",
            pt="entrega,envio,encomenda,pacote,transportadora,correios",
            ru="доставк,доставил,курьер,посылк",
            cy="danfon,parsel,cludo",
        ),
        (
            "My parcel was delivered late by the courier.",
            "La consegna del pacco è arrivata in ritardo.",
            "La entrega del paquete llegó tarde.",
            "La livraison du colis était en retard.",
            "Die Lieferung des Pakets kam zu spät.",
            "A entrega da encomenda atrasou.",
            "Доставка посылки опоздала.",
            "Cyrhaeddodd y parsel yn hwyr.",
        ),
    ),
    Topic(
        "returns",
        "Returns and refunds",
        _kw(
            en="return,refund,exchange",
            it="reso=,resi=,rimbors,restitu,cambio merce",
            es="devoluci,devolver,reembols",
            fr="retour,rembours,échange",
            de="rückgabe,rücksend,erstatt,umtausch,retoure",
            pt="devoluç,devolver,reembols,troca=",
            ru="возврат,вернуть,вернули,обмен",
            cy="dychwel,ad-dal,ad dalu",
        ),
        (
            "I returned the item and I am still waiting for my refund.",
            "Ho fatto il reso e aspetto il rimborso.",
            "Devolví el producto y espero el reembolso.",
            "J'ai retourné l'article et j'attends le remboursement.",
            "Ich habe den Artikel zurückgeschickt und warte auf die Erstattung.",
            "Devolvi o produto e aguardo o reembolso.",
            "Я вернул товар и жду возврата денег.",
            "Dychwelais yr eitem ac rwy'n aros am ad-daliad.",
        ),
    ),
    Topic(
        "website_checkout",
        "Website and checkout",
        _kw(
            en="website,web site,site=,checkout,online,basket,cart=,login,log in,password,webpage",
            it="sito,carrello,online,pagina web",
            es="web=,página web,sitio,carrito,en línea,online",
            fr="site=,site web,panier,en ligne,paiement en ligne",
            de="webseite,website,warenkorb,online,checkout,anmeld,onlineshop",
            pt="site=,carrinho,online,página",
            ru="сайт,корзин,оформлени,онлайн",
            cy="gwefan,basged,ar-lein,ar lein",
        ),
        (
            "The website checkout failed when I tried to pay online.",
            "Il sito non funziona al momento del pagamento.",
            "La página web falla al pagar.",
            "Le site web plante au moment du paiement.",
            "Die Webseite stürzt beim Bezahlen ab.",
            "O site dá erro na hora de pagar.",
            "Сайт не работает при оформлении заказа.",
            "Methodd y wefan pan geisiais dalu.",
        ),
    ),
    Topic(
        "app",
        "App",
        _kw(
            en="app=,apps=,application,crash,update",
            it="app=,applicazione",
            es="app=,aplicación,aplicacion",
            fr="app=,appli=,application",
            de="app=,anwendung",
            pt="app=,aplicativo",
            ru="приложени",
            cy="ap=,ap=",
        ),
        (
            "The mobile app keeps crashing.",
            "L'app continua a bloccarsi.",
            "La aplicación móvil se cierra sola.",
            "L'application mobile plante sans arrêt.",
            "Die App stürzt ständig ab.",
            "O aplicativo trava o tempo todo.",
            "Мобильное приложение постоянно вылетает.",
            "Mae'r ap yn chwalu o hyd.",
        ),
    ),
    Topic(
        "billing",
        "Billing",
        _kw(
            en="bill=,billing,billed,invoice,charged,overcharg,receipt,subscription,direct debit",
            it="fattur,addebit,bolletta,abbonament",
            es="factura,cobro,cobrar,cobraron,cargo=,suscripción",
            fr="factur,prélève,prélèvement,débit,abonnement",
            de="rechnung,abbuch,abgebucht,belastet,abonnement,abo=",
            pt="fatura,cobrança,cobrad,cobraram,assinatura",
            ru="счет=,счёт=,списал,списани,оплат,подписк",
            cy="bil=,anfoneb,taliad",
        ),
        (
            "I was charged twice on my bill.",
            "Mi hanno addebitato due volte in fattura.",
            "Me cobraron dos veces en la factura.",
            "J'ai été facturé deux fois.",
            "Mir wurde auf der Rechnung doppelt abgebucht.",
            "Fui cobrado duas vezes na fatura.",
            "С меня дважды списали деньги по счёту.",
            "Codwyd tâl ddwywaith ar fy mil.",
        ),
    ),
)


@lru_cache(maxsize=256)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    parts = []
    for word in words:
        exact = word.endswith("=")
        core = re.escape(word.rstrip("=").strip().lower()).replace(r"\ ", r"\s+")
        parts.append(core + (r"(?!\w)" if exact else ""))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")")


def keyword_topics(text: str, language: str, taxonomy: Taxonomy) -> tuple[str, ...]:
    """Topics whose seed words (of `language` or English) occur in `text`."""
    clean = normalize(text).lower()
    hits = []
    for topic in taxonomy.topics:
        words = tuple(
            dict.fromkeys((*topic.keywords.get(language, ()), *topic.keywords.get("en", ())))
        )
        if words and _pattern(words).search(clean):
            hits.append(topic.id)
    return tuple(hits)


@dataclass(frozen=True, slots=True)
class TopicMatcher:
    """Assigns topics by seed words and, given embeddings, by similarity to topic prototypes."""

    taxonomy: Taxonomy
    prototypes: np.ndarray | None = None  # one L2-normalised row per topic (or None)
    threshold: float = 0.0  # similarity margin over the text's mean similarity to all topics

    def assign(
        self,
        texts: Sequence[str],
        languages: Sequence[str],
        embeddings: np.ndarray | None = None,
    ) -> list[tuple[str, ...]]:
        out = [
            keyword_topics(t, lang, self.taxonomy) for t, lang in zip(texts, languages, strict=True)
        ]
        if embeddings is None or self.prototypes is None or len(self.taxonomy.topics) < 2:
            return out
        sims = embeddings @ self.prototypes.T
        margin = sims - sims.mean(axis=1, keepdims=True)
        best = margin.argmax(axis=1)
        ids = [t.id for t in self.taxonomy.topics]
        for i, k in enumerate(best.tolist()):
            if margin[i, k] >= self.threshold and ids[k] not in out[i]:
                out[i] = (*out[i], ids[k])
        return out


def prototypes(taxonomy: Taxonomy, embed: Any) -> np.ndarray | None:
    """Mean embedding of each topic's descriptions (topics without any get its name)."""
    rows = []
    for topic in taxonomy.topics:
        vectors = embed(list(topic.descriptions) or [topic.name])
        mean = np.asarray(vectors, dtype=np.float32).mean(axis=0)
        rows.append(mean / max(float(np.linalg.norm(mean)), 1e-9))
    return np.vstack(rows) if rows else None


@dataclass(frozen=True, slots=True)
class Theme:
    """A cluster of texts for a person to name and adopt as a topic."""

    size: int
    members: tuple[int, ...]  # indices into the texts given
    representatives: tuple[str, ...]  # the texts nearest the cluster's centre
    suggested_labels: tuple[str, ...]
    cohesion: float  # mean cosine similarity of members to the centre


def kmeans(
    x: np.ndarray, k: int, *, seed: int = 0, iterations: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means (k-means++ start, seeded): labels and unit-length centres."""
    rng = np.random.default_rng(seed)
    n = len(x)
    centres = [x[int(rng.integers(n))]]
    for _ in range(1, k):
        sims = np.max(x @ np.vstack(centres).T, axis=1)
        dist = np.clip(1.0 - sims, 0.0, None) ** 2
        total = float(dist.sum())
        pick = int(rng.choice(n, p=dist / total)) if total > 0 else int(rng.integers(n))
        centres.append(x[pick])
    c = np.vstack(centres).astype(np.float64)
    labels = np.zeros(n, dtype=np.int64)
    for step in range(iterations):
        new = np.argmax(x @ c.T, axis=1)
        if step and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = x[labels == j]
            if len(members):
                mean = members.mean(axis=0)
                c[j] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return labels, c


def discover_themes(
    texts: Sequence[str],
    embeddings: np.ndarray,
    *,
    language: str = "en",
    k: int | None = None,
    min_size: int = 3,
    representatives: int = 3,
    seed: int = 0,
) -> list[Theme]:
    """Clusters of similar texts, largest and tightest first."""
    n = len(texts)
    if n < max(min_size, 2):
        return []
    x = np.asarray(embeddings, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    k = k or max(2, min(12, int(round(np.sqrt(n / 4)))))
    k = min(k, n)
    labels, centres = kmeans(x, k, seed=seed)
    themes = []
    for j in range(k):
        idx = np.flatnonzero(labels == j)
        if len(idx) < min_size:
            continue
        sims = x[idx] @ centres[j]
        order = idx[np.argsort(-sims)]
        group = [texts[int(i)] for i in idx]
        rest = [texts[i] for i in range(n) if labels[i] != j]
        themes.append(
            Theme(
                size=len(idx),
                members=tuple(int(i) for i in sorted(idx)),
                representatives=tuple(texts[int(i)] for i in order[:representatives]),
                suggested_labels=tuple(distinctive_phrases(group, rest, language, limit=3)),
                cohesion=round(float(sims.mean()), 4),
            )
        )
    themes.sort(key=lambda t: (-t.size * t.cohesion, t.members))
    return themes

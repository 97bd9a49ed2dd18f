"""Short stop-word lists for keyphrase extraction (function words, pronouns, auxiliaries)."""

from __future__ import annotations

_RAW = {
    "en": """a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over own
same she should so some such than that the their theirs them themselves then there these they this
those through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself yourselves also get got really still even much many one us im
dont didnt cant wont ive youre thats its it's don't didn't can't won't i'm i've you're that's
very quite rt user http amp""",
    "it": """a ad al alla alle allo agli ai anche avere aveva che chi ci come con contro cui da dal
dalla dalle dei del della delle dello degli di dove e è ed era erano essere fa fare fino gli ha
hanno ho i il in io la le lei lo loro lui ma me mi mia mie miei mio molto ne nei nel nella nelle
nello negli no noi non nostra nostro o per perché più poi quale quando quanto quella quelle quello
questa queste questi questo se sei si sia siamo sono su sua sue suo suoi sul sulla sullo ti tra tu
tua tuo tutti tutto un una uno vi voi già così solo ancora sempre rt user http""",
    "es": """a al algo algunos ante antes como con contra cual cuando de del desde donde durante e
el él ella ellas ellos en entre era eran es esa esas ese eso esos esta está están estas este esto
estos fue fueron ha han hasta hay la las le les lo los me mi mis mucho muy más nada ni no nos
nosotros o os otra otro para pero poco por porque que qué quien se sea ser si sí sin sobre son su
sus también te tengo tiene todo todos tu tus un una uno unos y ya yo rt user http""",
    "fr": """a à ai au aux avec avoir avait c ce cela ces cet cette d dans de des du elle elles en
est et été être eu il ils j je l la le les leur leurs lui m ma mais me même mes moi mon n ne nos
notre nous on ont ou où par pas pour qu que qui s sa sans se ses si son sont sur t ta te tes toi
ton tu un une vos votre vous y très plus bien aussi fait rt user http""",
    "de": """aber alle allem allen aller alles als also am an auch auf aus bei bin bis bist da
damit dann das dass dem den der des dich die dir doch dort du durch ein eine einem einen einer
eines er es für hab habe haben hat hatte ich ihr ihre ihm ihn im in ist ja jetzt kann kein keine
man mein meine mich mir mit muss nach nicht noch nur ob oder schon sehr sein seine sich sie sind
so über um und uns unser vom von vor war waren was weil wenn wer wie wieder wir wird wo zu zum zur
immer mal ganz heute rt user http""",
    "pt": """a ao aos as à às até com como da das de dele dela do dos e é ela elas ele eles em
entre era essa esse esta está estão este eu foi foram há isso isto já la lhe mais mas me meu minha
muito na nas não nem no nos nós o os ou para pela pelo por porque quando que quem se sem ser seu
sua são também te tem ter tu um uma você vocês vai rt user http""",
    "ru": """а без более бы был была были было быть в вам вас весь во вот все всё всего вы да
для до его ее её если есть еще ещё же за и из или им их к как когда кто ли меня мне мной мы на
над не него нее неё нет ни них но ну о об однако он она они оно от очень по под после при про с
со так также там те тем то того тоже той только том ты у уже хотя чего чем что чтобы эта эти это
этот я rt user http""",
    "cy": """a ac ag am ar at bod bydd byddai chi ci cyn dan dros ei eich ein eu fe fi fy gan
gyda hi hwn hon hyn i mae mai math nad nid o oedd os pan pob rhwng sydd tan trwy wedi y yma yn yr
ydw ydy ydych ydym fod gael gall roedd rwy rydw rt user http""",
}

STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split()) for lang, words in _RAW.items()
}
ALL_STOPWORDS: frozenset[str] = frozenset().union(*STOPWORDS.values())


def stopwords(language: str) -> frozenset[str]:
    """The list for `language`; for a language without one, the union of all lists."""
    return STOPWORDS.get(language, ALL_STOPWORDS)

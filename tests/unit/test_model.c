/* The pure model functions (no I/O): averages rounded exactly as the JavaScript
 * services round them, their printing, input validation, the top-performers index keys,
 * the JSON renderings of docs/data-model.md, and clean DR_E_NOMEM at every allocation
 * of the result, rating, configuration and stream-batch paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc.h"
#include "buf.h"
#include "bulk.h"
#include "config.h"
#include "dadratings.h"
#include "test_alloc.h"
#include "keys.h"
#include "ops.h"
#include "stats.h"

/* ---- dr__average_hundredths against JavaScript ------------------------------------ */

/* Reference: Number((score / total).toFixed(2)) as Node.js v20.20.2 computes it, times
 * 100. Generated once at test-writing time (pairs.txt: 465 "score total" lines, from k/8
 * for k = 1..40 (exact binary ties at .x25/.x75), every 5% step of totals 200, 400 and
 * 1000, hand-picked ties such as 201/200, 1005/1000 and 1015/1000 whose decimal looks
 * like a tie but whose double is not, 120 random totals up to 10^6, 40 up to 10^13 and
 * three near 2^53) by:
 *   node -e 'const L=require("fs").readFileSync("pairs.txt","utf8").trim().split("\n");
 *     console.log(L.map(l=>{const [s,t]=l.split(" ").map(Number);
 *       return `{${s}ULL, ${t}ULL, ${Math.round(Number((s/t).toFixed(2))*100)}u},`;
 *     }).join("\n"))'
 */
static const struct {
    uint64_t score, total;
    uint32_t hundredths;
} js_reference[] = {
    {1ULL, 1ULL, 100u},
    {1ULL, 3ULL, 33u},
    {1ULL, 8ULL, 13u},
    {1ULL, 16ULL, 6u},
    {2ULL, 3ULL, 67u},
    {2ULL, 8ULL, 25u},
    {3ULL, 2ULL, 150u},
    {3ULL, 8ULL, 38u},
    {3ULL, 16ULL, 19u},
    {4ULL, 8ULL, 50u},
    {5ULL, 1ULL, 500u},
    {5ULL, 8ULL, 63u},
    {6ULL, 8ULL, 75u},
    {7ULL, 4ULL, 175u},
    {7ULL, 8ULL, 88u},
    {8ULL, 8ULL, 100u},
    {9ULL, 8ULL, 113u},
    {10ULL, 3ULL, 333u},
    {10ULL, 8ULL, 125u},
    {11ULL, 8ULL, 138u},
    {12ULL, 8ULL, 150u},
    {13ULL, 8ULL, 163u},
    {14ULL, 3ULL, 467u},
    {14ULL, 8ULL, 175u},
    {15ULL, 8ULL, 188u},
    {16ULL, 8ULL, 200u},
    {17ULL, 8ULL, 213u},
    {17ULL, 16ULL, 106u},
    {18ULL, 8ULL, 225u},
    {19ULL, 8ULL, 238u},
    {20ULL, 8ULL, 250u},
    {21ULL, 8ULL, 263u},
    {22ULL, 8ULL, 275u},
    {23ULL, 8ULL, 288u},
    {24ULL, 8ULL, 300u},
    {25ULL, 8ULL, 313u},
    {26ULL, 8ULL, 325u},
    {27ULL, 8ULL, 338u},
    {28ULL, 8ULL, 350u},
    {29ULL, 7ULL, 414u},
    {29ULL, 8ULL, 363u},
    {30ULL, 8ULL, 375u},
    {31ULL, 8ULL, 388u},
    {32ULL, 8ULL, 400u},
    {33ULL, 8ULL, 413u},
    {33ULL, 32ULL, 103u},
    {34ULL, 8ULL, 425u},
    {35ULL, 8ULL, 438u},
    {36ULL, 8ULL, 450u},
    {37ULL, 8ULL, 463u},
    {38ULL, 8ULL, 475u},
    {39ULL, 8ULL, 488u},
    {40ULL, 8ULL, 500u},
    {200ULL, 200ULL, 100u},
    {201ULL, 200ULL, 100u},
    {203ULL, 200ULL, 101u},
    {210ULL, 200ULL, 105u},
    {220ULL, 200ULL, 110u},
    {230ULL, 200ULL, 115u},
    {240ULL, 200ULL, 120u},
    {250ULL, 200ULL, 125u},
    {260ULL, 200ULL, 130u},
    {270ULL, 200ULL, 135u},
    {280ULL, 200ULL, 140u},
    {290ULL, 200ULL, 145u},
    {300ULL, 200ULL, 150u},
    {310ULL, 200ULL, 155u},
    {320ULL, 200ULL, 160u},
    {330ULL, 200ULL, 165u},
    {340ULL, 200ULL, 170u},
    {350ULL, 200ULL, 175u},
    {360ULL, 200ULL, 180u},
    {370ULL, 200ULL, 185u},
    {380ULL, 200ULL, 190u},
    {390ULL, 200ULL, 195u},
    {400ULL, 200ULL, 200u},
    {400ULL, 400ULL, 100u},
    {410ULL, 200ULL, 205u},
    {420ULL, 200ULL, 210u},
    {420ULL, 400ULL, 105u},
    {430ULL, 200ULL, 215u},
    {440ULL, 200ULL, 220u},
    {440ULL, 400ULL, 110u},
    {450ULL, 200ULL, 225u},
    {460ULL, 200ULL, 230u},
    {460ULL, 400ULL, 115u},
    {470ULL, 200ULL, 235u},
    {480ULL, 200ULL, 240u},
    {480ULL, 400ULL, 120u},
    {490ULL, 200ULL, 245u},
    {500ULL, 200ULL, 250u},
    {500ULL, 400ULL, 125u},
    {510ULL, 200ULL, 255u},
    {520ULL, 200ULL, 260u},
    {520ULL, 400ULL, 130u},
    {530ULL, 200ULL, 265u},
    {540ULL, 200ULL, 270u},
    {540ULL, 400ULL, 135u},
    {550ULL, 200ULL, 275u},
    {560ULL, 200ULL, 280u},
    {560ULL, 400ULL, 140u},
    {570ULL, 200ULL, 285u},
    {580ULL, 200ULL, 290u},
    {580ULL, 400ULL, 145u},
    {590ULL, 200ULL, 295u},
    {600ULL, 200ULL, 300u},
    {600ULL, 400ULL, 150u},
    {610ULL, 200ULL, 305u},
    {620ULL, 200ULL, 310u},
    {620ULL, 400ULL, 155u},
    {630ULL, 200ULL, 315u},
    {640ULL, 200ULL, 320u},
    {640ULL, 400ULL, 160u},
    {650ULL, 200ULL, 325u},
    {660ULL, 200ULL, 330u},
    {660ULL, 400ULL, 165u},
    {670ULL, 200ULL, 335u},
    {680ULL, 200ULL, 340u},
    {680ULL, 400ULL, 170u},
    {690ULL, 200ULL, 345u},
    {700ULL, 200ULL, 350u},
    {700ULL, 400ULL, 175u},
    {710ULL, 200ULL, 355u},
    {720ULL, 200ULL, 360u},
    {720ULL, 400ULL, 180u},
    {730ULL, 200ULL, 365u},
    {738ULL, 487ULL, 152u},
    {740ULL, 200ULL, 370u},
    {740ULL, 400ULL, 185u},
    {750ULL, 200ULL, 375u},
    {760ULL, 200ULL, 380u},
    {760ULL, 400ULL, 190u},
    {770ULL, 200ULL, 385u},
    {780ULL, 200ULL, 390u},
    {780ULL, 400ULL, 195u},
    {790ULL, 200ULL, 395u},
    {800ULL, 200ULL, 400u},
    {800ULL, 400ULL, 200u},
    {810ULL, 200ULL, 405u},
    {820ULL, 200ULL, 410u},
    {820ULL, 400ULL, 205u},
    {830ULL, 200ULL, 415u},
    {840ULL, 200ULL, 420u},
    {840ULL, 400ULL, 210u},
    {850ULL, 200ULL, 425u},
    {860ULL, 200ULL, 430u},
    {860ULL, 400ULL, 215u},
    {870ULL, 200ULL, 435u},
    {880ULL, 200ULL, 440u},
    {880ULL, 400ULL, 220u},
    {890ULL, 200ULL, 445u},
    {900ULL, 200ULL, 450u},
    {900ULL, 400ULL, 225u},
    {910ULL, 200ULL, 455u},
    {920ULL, 200ULL, 460u},
    {920ULL, 400ULL, 230u},
    {930ULL, 200ULL, 465u},
    {940ULL, 200ULL, 470u},
    {940ULL, 400ULL, 235u},
    {950ULL, 200ULL, 475u},
    {960ULL, 200ULL, 480u},
    {960ULL, 400ULL, 240u},
    {970ULL, 200ULL, 485u},
    {980ULL, 200ULL, 490u},
    {980ULL, 400ULL, 245u},
    {990ULL, 200ULL, 495u},
    {1000ULL, 200ULL, 500u},
    {1000ULL, 400ULL, 250u},
    {1000ULL, 1000ULL, 100u},
    {1005ULL, 1000ULL, 100u},
    {1015ULL, 1000ULL, 101u},
    {1020ULL, 400ULL, 255u},
    {1025ULL, 1000ULL, 102u},
    {1040ULL, 400ULL, 260u},
    {1050ULL, 1000ULL, 105u},
    {1060ULL, 400ULL, 265u},
    {1080ULL, 400ULL, 270u},
    {1100ULL, 400ULL, 275u},
    {1100ULL, 1000ULL, 110u},
    {1120ULL, 400ULL, 280u},
    {1140ULL, 400ULL, 285u},
    {1150ULL, 1000ULL, 115u},
    {1160ULL, 400ULL, 290u},
    {1180ULL, 400ULL, 295u},
    {1200ULL, 400ULL, 300u},
    {1200ULL, 1000ULL, 120u},
    {1220ULL, 400ULL, 305u},
    {1240ULL, 400ULL, 310u},
    {1250ULL, 1000ULL, 125u},
    {1260ULL, 400ULL, 315u},
    {1280ULL, 400ULL, 320u},
    {1300ULL, 400ULL, 325u},
    {1300ULL, 1000ULL, 130u},
    {1320ULL, 400ULL, 330u},
    {1340ULL, 400ULL, 335u},
    {1350ULL, 1000ULL, 135u},
    {1360ULL, 400ULL, 340u},
    {1380ULL, 400ULL, 345u},
    {1400ULL, 400ULL, 350u},
    {1400ULL, 1000ULL, 140u},
    {1420ULL, 400ULL, 355u},
    {1440ULL, 400ULL, 360u},
    {1450ULL, 1000ULL, 145u},
    {1460ULL, 400ULL, 365u},
    {1480ULL, 400ULL, 370u},
    {1500ULL, 400ULL, 375u},
    {1500ULL, 1000ULL, 150u},
    {1520ULL, 400ULL, 380u},
    {1540ULL, 400ULL, 385u},
    {1550ULL, 1000ULL, 155u},
    {1560ULL, 400ULL, 390u},
    {1580ULL, 400ULL, 395u},
    {1600ULL, 400ULL, 400u},
    {1600ULL, 1000ULL, 160u},
    {1620ULL, 400ULL, 405u},
    {1640ULL, 400ULL, 410u},
    {1650ULL, 1000ULL, 165u},
    {1660ULL, 400ULL, 415u},
    {1680ULL, 400ULL, 420u},
    {1700ULL, 400ULL, 425u},
    {1700ULL, 1000ULL, 170u},
    {1720ULL, 400ULL, 430u},
    {1740ULL, 400ULL, 435u},
    {1750ULL, 1000ULL, 175u},
    {1760ULL, 400ULL, 440u},
    {1780ULL, 400ULL, 445u},
    {1800ULL, 400ULL, 450u},
    {1800ULL, 1000ULL, 180u},
    {1820ULL, 400ULL, 455u},
    {1840ULL, 400ULL, 460u},
    {1850ULL, 1000ULL, 185u},
    {1860ULL, 400ULL, 465u},
    {1880ULL, 400ULL, 470u},
    {1900ULL, 400ULL, 475u},
    {1900ULL, 1000ULL, 190u},
    {1920ULL, 400ULL, 480u},
    {1940ULL, 400ULL, 485u},
    {1950ULL, 1000ULL, 195u},
    {1960ULL, 400ULL, 490u},
    {1980ULL, 400ULL, 495u},
    {2000ULL, 400ULL, 500u},
    {2000ULL, 1000ULL, 200u},
    {2050ULL, 1000ULL, 205u},
    {2100ULL, 1000ULL, 210u},
    {2150ULL, 1000ULL, 215u},
    {2200ULL, 1000ULL, 220u},
    {2250ULL, 1000ULL, 225u},
    {2300ULL, 1000ULL, 230u},
    {2350ULL, 1000ULL, 235u},
    {2400ULL, 1000ULL, 240u},
    {2450ULL, 1000ULL, 245u},
    {2500ULL, 1000ULL, 250u},
    {2550ULL, 1000ULL, 255u},
    {2600ULL, 1000ULL, 260u},
    {2650ULL, 1000ULL, 265u},
    {2700ULL, 1000ULL, 270u},
    {2750ULL, 1000ULL, 275u},
    {2800ULL, 1000ULL, 280u},
    {2850ULL, 1000ULL, 285u},
    {2900ULL, 1000ULL, 290u},
    {2950ULL, 1000ULL, 295u},
    {3000ULL, 1000ULL, 300u},
    {3050ULL, 1000ULL, 305u},
    {3100ULL, 1000ULL, 310u},
    {3150ULL, 1000ULL, 315u},
    {3200ULL, 1000ULL, 320u},
    {3250ULL, 1000ULL, 325u},
    {3300ULL, 1000ULL, 330u},
    {3350ULL, 1000ULL, 335u},
    {3400ULL, 1000ULL, 340u},
    {3450ULL, 1000ULL, 345u},
    {3500ULL, 1000ULL, 350u},
    {3550ULL, 1000ULL, 355u},
    {3600ULL, 1000ULL, 360u},
    {3650ULL, 1000ULL, 365u},
    {3700ULL, 1000ULL, 370u},
    {3750ULL, 1000ULL, 375u},
    {3800ULL, 1000ULL, 380u},
    {3850ULL, 1000ULL, 385u},
    {3900ULL, 1000ULL, 390u},
    {3950ULL, 1000ULL, 395u},
    {4000ULL, 1000ULL, 400u},
    {4015ULL, 1000ULL, 401u},
    {4050ULL, 1000ULL, 405u},
    {4100ULL, 1000ULL, 410u},
    {4150ULL, 1000ULL, 415u},
    {4200ULL, 1000ULL, 420u},
    {4250ULL, 1000ULL, 425u},
    {4300ULL, 1000ULL, 430u},
    {4350ULL, 1000ULL, 435u},
    {4400ULL, 1000ULL, 440u},
    {4450ULL, 1000ULL, 445u},
    {4500ULL, 1000ULL, 450u},
    {4550ULL, 1000ULL, 455u},
    {4600ULL, 1000ULL, 460u},
    {4650ULL, 1000ULL, 465u},
    {4700ULL, 1000ULL, 470u},
    {4750ULL, 1000ULL, 475u},
    {4800ULL, 1000ULL, 480u},
    {4850ULL, 1000ULL, 485u},
    {4900ULL, 1000ULL, 490u},
    {4950ULL, 1000ULL, 495u},
    {5000ULL, 1000ULL, 500u},
    {9463ULL, 4527ULL, 209u},
    {139086ULL, 76932ULL, 181u},
    {156706ULL, 91005ULL, 172u},
    {193839ULL, 102751ULL, 189u},
    {199570ULL, 47826ULL, 417u},
    {255569ULL, 191101ULL, 134u},
    {256878ULL, 214425ULL, 120u},
    {263358ULL, 61327ULL, 429u},
    {284986ULL, 210697ULL, 135u},
    {291083ULL, 117477ULL, 248u},
    {299174ULL, 240699ULL, 124u},
    {325041ULL, 239647ULL, 136u},
    {342995ULL, 173089ULL, 198u},
    {355258ULL, 294609ULL, 121u},
    {422922ULL, 148266ULL, 285u},
    {429928ULL, 182200ULL, 236u},
    {441946ULL, 108841ULL, 406u},
    {503198ULL, 205151ULL, 245u},
    {510490ULL, 130216ULL, 392u},
    {576674ULL, 291950ULL, 198u},
    {599650ULL, 212958ULL, 282u},
    {614434ULL, 247134ULL, 249u},
    {654858ULL, 222939ULL, 294u},
    {668907ULL, 383476ULL, 174u},
    {713010ULL, 155579ULL, 458u},
    {715533ULL, 588961ULL, 121u},
    {724971ULL, 184674ULL, 393u},
    {734365ULL, 247549ULL, 297u},
    {738360ULL, 318507ULL, 232u},
    {781855ULL, 347932ULL, 225u},
    {783907ULL, 362070ULL, 217u},
    {857776ULL, 544579ULL, 158u},
    {873769ULL, 483368ULL, 181u},
    {873991ULL, 492926ULL, 177u},
    {880385ULL, 798929ULL, 110u},
    {883761ULL, 609245ULL, 145u},
    {886284ULL, 220454ULL, 402u},
    {907208ULL, 426745ULL, 213u},
    {950405ULL, 316014ULL, 301u},
    {974924ULL, 552929ULL, 176u},
    {977894ULL, 519276ULL, 188u},
    {979713ULL, 250909ULL, 390u},
    {1013385ULL, 644818ULL, 157u},
    {1057239ULL, 353643ULL, 299u},
    {1069159ULL, 542886ULL, 197u},
    {1077121ULL, 624307ULL, 173u},
    {1079164ULL, 335491ULL, 322u},
    {1085251ULL, 647797ULL, 168u},
    {1098166ULL, 434514ULL, 253u},
    {1103058ULL, 409266ULL, 270u},
    {1153751ULL, 495954ULL, 233u},
    {1236372ULL, 341294ULL, 362u},
    {1237825ULL, 285954ULL, 433u},
    {1243524ULL, 371377ULL, 335u},
    {1270993ULL, 717304ULL, 177u},
    {1287355ULL, 276432ULL, 466u},
    {1341504ULL, 587238ULL, 228u},
    {1362486ULL, 779621ULL, 175u},
    {1413830ULL, 436806ULL, 324u},
    {1465063ULL, 324565ULL, 451u},
    {1467836ULL, 552945ULL, 265u},
    {1473179ULL, 675861ULL, 218u},
    {1479104ULL, 607296ULL, 244u},
    {1493085ULL, 595265ULL, 251u},
    {1530460ULL, 334731ULL, 457u},
    {1587384ULL, 559081ULL, 284u},
    {1603386ULL, 636170ULL, 252u},
    {1615328ULL, 903071ULL, 179u},
    {1632515ULL, 766887ULL, 213u},
    {1640653ULL, 591963ULL, 277u},
    {1649267ULL, 419644ULL, 393u},
    {1651417ULL, 769886ULL, 215u},
    {1684838ULL, 366420ULL, 460u},
    {1713959ULL, 406084ULL, 422u},
    {1728496ULL, 441503ULL, 392u},
    {1730976ULL, 786337ULL, 220u},
    {1736360ULL, 511758ULL, 339u},
    {1745432ULL, 483567ULL, 361u},
    {1754031ULL, 934295ULL, 188u},
    {1756306ULL, 844964ULL, 208u},
    {1766133ULL, 517307ULL, 341u},
    {1827794ULL, 891471ULL, 205u},
    {1863843ULL, 751425ULL, 248u},
    {1890838ULL, 570725ULL, 331u},
    {1935481ULL, 459422ULL, 421u},
    {1993266ULL, 907451ULL, 220u},
    {2018009ULL, 430010ULL, 469u},
    {2123382ULL, 738261ULL, 288u},
    {2151665ULL, 570593ULL, 377u},
    {2171895ULL, 799866ULL, 272u},
    {2377926ULL, 549138ULL, 433u},
    {2436352ULL, 696116ULL, 350u},
    {2452319ULL, 822417ULL, 298u},
    {2506915ULL, 665113ULL, 377u},
    {2687873ULL, 722703ULL, 372u},
    {2697564ULL, 747377ULL, 361u},
    {2757077ULL, 667050ULL, 413u},
    {3005764ULL, 884955ULL, 340u},
    {3106942ULL, 992425ULL, 313u},
    {3189428ULL, 763641ULL, 418u},
    {3306057ULL, 706160ULL, 468u},
    {3342931ULL, 850801ULL, 393u},
    {3412245ULL, 755460ULL, 452u},
    {3511583ULL, 877149ULL, 400u},
    {3520003ULL, 898996ULL, 392u},
    {3608765ULL, 871896ULL, 414u},
    {3630440ULL, 892697ULL, 407u},
    {3733254ULL, 786566ULL, 475u},
    {3788509ULL, 944684ULL, 401u},
    {3801097ULL, 843455ULL, 451u},
    {3878076ULL, 875164ULL, 443u},
    {3907298ULL, 837737ULL, 466u},
    {3943495ULL, 969588ULL, 407u},
    {3957496ULL, 985716ULL, 401u},
    {3965041ULL, 930400ULL, 426u},
    {4091256ULL, 981606ULL, 417u},
    {4289223ULL, 934712ULL, 459u},
    {4470475ULL, 991111ULL, 451u},
    {4588825ULL, 949006ULL, 484u},
    {972379027958ULL, 464398547049ULL, 209u},
    {2620041776058ULL, 948216249469ULL, 276u},
    {2726432576516ULL, 1188262082815ULL, 229u},
    {2805678880853ULL, 1901882977381ULL, 148u},
    {2873280461939ULL, 954891930652ULL, 301u},
    {4067059487042ULL, 4063024584771ULL, 100u},
    {5339169797836ULL, 2143201974789ULL, 249u},
    {5510210952930ULL, 2189347315976ULL, 252u},
    {7052362678672ULL, 5741710396485ULL, 123u},
    {7167398872030ULL, 1783985864307ULL, 402u},
    {7516226502827ULL, 6421148898073ULL, 117u},
    {7965510018855ULL, 7590421753502ULL, 105u},
    {8029798139583ULL, 2097007998702ULL, 383u},
    {9817238475552ULL, 2819398227461ULL, 348u},
    {10423531815450ULL, 5584962720020ULL, 187u},
    {13241631740869ULL, 7634299119190ULL, 173u},
    {13649994384671ULL, 4947116406726ULL, 276u},
    {14764486335393ULL, 3415171181231ULL, 432u},
    {14911169998861ULL, 7377635906774ULL, 202u},
    {14979218341974ULL, 5981784094048ULL, 250u},
    {15585119338141ULL, 3179083661012ULL, 490u},
    {17906937126699ULL, 4189573152124ULL, 427u},
    {18500562927364ULL, 3961636963947ULL, 467u},
    {19085093809203ULL, 8224955352943ULL, 232u},
    {21119492012771ULL, 6300880300715ULL, 335u},
    {22621434891159ULL, 7898872323365ULL, 286u},
    {22790070434339ULL, 6384014585448ULL, 357u},
    {22826992629100ULL, 5409816098096ULL, 422u},
    {22848607047037ULL, 4623284594458ULL, 494u},
    {23936872020255ULL, 5010290445681ULL, 478u},
    {23965985591956ULL, 5598552117572ULL, 428u},
    {24945613692502ULL, 7637134527842ULL, 327u},
    {25642655115536ULL, 8176936312027ULL, 314u},
    {28708739072633ULL, 6278487468798ULL, 457u},
    {29164095976045ULL, 9712983222786ULL, 300u},
    {30429274573777ULL, 6272422880413ULL, 485u},
    {33886185356006ULL, 7113944225563ULL, 476u},
    {35584717283082ULL, 7841063156711ULL, 454u},
    {41504614976086ULL, 8887687343978ULL, 467u},
    {42884596190925ULL, 9121998212902ULL, 470u},
    {4000000000000005ULL, 1000000000000000ULL, 400u},
    {4503599627370497ULL, 1125899906842624ULL, 400u},
    {9007199254740991ULL, 4503599627370496ULL, 200u},
};

static void test_average_matches_javascript(void **state)
{
    size_t i, n = sizeof js_reference / sizeof *js_reference;
    (void)state;
    for (i = 0; i < n; i++) {
        uint32_t got = dr__average_hundredths(js_reference[i].score, js_reference[i].total);
        if (got != js_reference[i].hundredths)
            fail_msg("%llu/%llu: got %u, JavaScript %u",
                     (unsigned long long)js_reference[i].score,
                     (unsigned long long)js_reference[i].total, got, js_reference[i].hundredths);
    }
    /* JavaScript's `total ? ... : 0` guards. */
    assert_int_equal(dr__average_hundredths(0, 0), 0);
    assert_int_equal(dr__average_hundredths(0, 7), 0);
    assert_int_equal(dr__average_hundredths(7, 0), 0);
}

static void test_format_hundredths(void **state)
{
    static const struct {
        uint32_t h;
        const char *text;
    } cases[] = {{413, "4.13"}, {410, "4.1"}, {400, "4"},   {0, "0"},     {5, "0.05"},
                 {50, "0.5"},   {101, "1.01"}, {100, "1"}, {499, "4.99"}, {12345, "123.45"}};
    char out[16];
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        dr__format_hundredths(cases[i].h, out);
        assert_string_equal(out, cases[i].text);
    }
}

/* ---- validation --------------------------------------------------------------------- */

static void test_utf8_valid(void **state)
{
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        {"", 1},
        {"plain", 1},
        {"\xc3\xa9", 1},                 /* U+00E9 */
        {"\xe2\x82\xac", 1},             /* U+20AC */
        {"\xf0\x9f\x98\x80", 1},         /* U+1F600, 4 bytes */
        {"\xf4\x8f\xbf\xbf", 1},         /* U+10FFFF, the last */
        {"\xef\xbf\xbf", 1},             /* U+FFFF */
        {"\xc0\xaf", 0},                 /* overlong '/' */
        {"\xc1\xbf", 0},                 /* overlong */
        {"\xe0\x80\xaf", 0},             /* overlong, 3 bytes */
        {"\xf0\x80\x80\xaf", 0},         /* overlong, 4 bytes */
        {"\xf0\x8f\xbf\xbf", 0},         /* overlong U+FFFF */
        {"\xed\xa0\x80", 0},             /* U+D800, a surrogate */
        {"\xed\xbf\xbf", 0},             /* U+DFFF */
        {"\xf4\x90\x80\x80", 0},         /* U+110000 */
        {"\xf7\xbf\xbf\xbf", 0},         /* past U+10FFFF */
        {"\xf8\x88\x80\x80\x80", 0},     /* 5-byte form */
        {"\xff", 0},
        {"\x80", 0},                     /* lone continuation */
        {"\xc3", 0},                     /* truncated */
        {"\xe2\x82", 0},                 /* truncated */
        {"\xf0\x9f\x98", 0},             /* truncated */
        {"a\xc3(", 0},                   /* bad continuation */
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof *cases; i++)
        if (dr__utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
            fail_msg("case %zu: expected %d", i, cases[i].ok);
    /* The length bounds the check: a valid prefix of an invalid string. */
    assert_int_equal(dr__utf8_valid("ok\xff", 2), 1);
    assert_int_equal(dr__utf8_valid("\xf0\x9f\x98\x80", 3), 0);
}

static void test_validators(void **state)
{
    char max_id[DR_MAX_JOKE_ID_BYTES + 2];
    (void)state;
    memset(max_id, 'x', sizeof max_id);
    max_id[DR_MAX_JOKE_ID_BYTES] = '\0';
    assert_int_equal(dr__validate_key_part("jokeId", max_id, DR_MAX_JOKE_ID_BYTES), DR_OK);
    max_id[DR_MAX_JOKE_ID_BYTES] = 'x';
    max_id[DR_MAX_JOKE_ID_BYTES + 1] = '\0';
    assert_int_equal(dr__validate_key_part("jokeId", max_id, DR_MAX_JOKE_ID_BYTES),
                     DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "jokeId"));

    assert_int_equal(dr__validate_key_part("author", "Caf\xc3\xa9 \xf0\x9f\x98\x80", 256), DR_OK);
    assert_int_equal(dr__validate_key_part("author", "", 256), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_key_part("author", NULL, 256), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_key_part("author", "a#b", 256), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "'#'"));
    assert_int_equal(dr__validate_key_part("author", "#", 256), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_key_part("author", "tab\tx", 256), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_key_part("author", "x\x7f", 256), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_key_part("author", "x\xc2\x80", 256), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_key_part("author", "x\xc2\x9f", 256), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_key_part("author", "x\xc2\xa0", 256), DR_OK); /* U+00A0 */
    assert_int_equal(dr__validate_key_part("author", "\xed\xa0\x80", 256), DR_E_INVALID_ARGUMENT);

    /* Free text: tab and newlines are text; other controls are not. '#' is fine. */
    assert_int_equal(dr__validate_text("jokeText", "a\tb\nc\r\nd #1", 100), DR_OK);
    assert_int_equal(dr__validate_text("jokeText", "bell\a", 100), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_text("jokeText", "del\x7f", 100), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_text("jokeText", "nel\xc2\x85", 100), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_text("jokeText", "12345", 4), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_text("jokeText", "", 4), DR_OK);

    assert_int_equal(dr__validate_date("2024-02-29"), DR_OK);  /* leap year */
    assert_int_equal(dr__validate_date("2000-02-29"), DR_OK);  /* divisible by 400 */
    assert_int_equal(dr__validate_date("2100-02-29"), DR_E_INVALID_ARGUMENT); /* by 100 */
    assert_int_equal(dr__validate_date("2023-02-29"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_date("2026-04-31"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_date("2026-12-31"), DR_OK);
    assert_int_equal(dr__validate_date("2026-00-10"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_date("2026-01-00"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_date("2026-1-01"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_date("2026/01/01"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_date("2026-01-01T"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_date("2026-0a-01"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_date(NULL), DR_E_INVALID_ARGUMENT);

    /* submittedAt as JavaScript's Date writes it; the payload reader uses the same rule. */
    assert_int_equal(dr__validate_submitted_at("2026-01-30T15:30:00.000Z"), DR_OK);
    assert_int_equal(dr__validate_submitted_at("2026-01-30T15:30:00Z"), DR_OK);
    assert_int_equal(dr__validate_submitted_at("2026-01-30T15:30:00.123456+01:00"), DR_OK);
    assert_int_equal(dr__validate_submitted_at("2026-02-30T15:30:00.000Z"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_submitted_at("2026-01-30 15:30:00Z"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_submitted_at("2026-01-30T15:30Z"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_submitted_at("2026-01-30T15:30:00.Z"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_submitted_at("2026-01-30T15:30:00.000"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_submitted_at("2026-01-30T15:30:00.0000000000000000000000Z"),
                     DR_E_INVALID_ARGUMENT); /* longer than DR_MAX_SUBMITTED_AT_BYTES */
    assert_int_equal(dr__validate_submitted_at(NULL), DR_E_INVALID_ARGUMENT);
    assert_non_null(strstr(dr_last_error_message(), "submittedAt"));

    assert_int_equal(dr__validate_mode("daily"), DR_OK);
    assert_int_equal(dr__validate_mode("live"), DR_OK);
    assert_int_equal(dr__validate_mode("Live"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_mode("live "), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_mode(""), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_mode(NULL), DR_E_INVALID_ARGUMENT);

    memset(max_id, 'k', sizeof max_id);
    max_id[DR_MAX_IDEMPOTENCY_KEY_BYTES] = '\0';
    assert_int_equal(dr__validate_idempotency_key(max_id), DR_OK);
    max_id[DR_MAX_IDEMPOTENCY_KEY_BYTES] = 'k';
    max_id[DR_MAX_IDEMPOTENCY_KEY_BYTES + 1] = '\0';
    assert_int_equal(dr__validate_idempotency_key(max_id), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_idempotency_key("Az09._:-"), DR_OK);
    assert_int_equal(dr__validate_idempotency_key(""), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_idempotency_key("a#b"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_idempotency_key("a b"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_idempotency_key("a/b"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_idempotency_key("caf\xc3\xa9"), DR_E_INVALID_ARGUMENT);
    assert_int_equal(dr__validate_idempotency_key(NULL), DR_E_INVALID_ARGUMENT);
}

/* ---- the top-performers index --------------------------------------------------------- */

typedef struct ranked {
    uint32_t avg;
    uint64_t total;
    const char *id;
    char key[128];
} ranked;

static int by_key_descending(const void *a, const void *b)
{
    return -strcmp(((const ranked *)a)->key, ((const ranked *)b)->key);
}

static void test_top_sort_key_order(void **state)
{
    /* In the documented order: best average, then more ratings, then id descending. */
    ranked expected[] = {
        {500, 3, "b", ""},        {500, 3, "a", ""},     {499, 100000, "z", ""},
        {499, 99999, "z", ""},    {499, 10, "zz", ""},   {499, 10, "z", ""},
        {499, 10, "Z", ""},       {450, 18446744073709551615ULL, "m", ""},
        {100, 3, "x", ""},        {0, 3, "x", ""},
    };
    enum { N = sizeof expected / sizeof *expected };
    ranked shuffled[N];
    size_t i;
    (void)state;
    for (i = 0; i < N; i++) {
        dr_buf b = DR_BUF_INIT;
        dr__top_sort_key(&b, expected[i].avg, expected[i].total, expected[i].id);
        assert_false(b.failed);
        snprintf(expected[i].key, sizeof expected[i].key, "%s", dr__buf_cstr(&b));
        dr__buf_free(&b);
    }
    assert_string_equal(expected[0].key, "500#00000000000000000003#b");
    assert_string_equal(expected[N - 1].key, "000#00000000000000000003#x");
    for (i = 0; i < N; i++) /* reversed, then sorted by key */
        shuffled[i] = expected[N - 1 - i];
    qsort(shuffled, N, sizeof *shuffled, by_key_descending);
    for (i = 0; i < N; i++)
        assert_string_equal(shuffled[i].key, expected[i].key);
}

static void test_top_partition(void **state)
{
    char out[48], want[48];
    int seen[4] = {0}, i;
    (void)state;
    dr__top_partition(1, "anything", out);
    assert_string_equal(out, "TOP_PERFORMERS");
    dr__top_partition(0, "anything", out);
    assert_string_equal(out, "TOP_PERFORMERS");
    for (i = 0; i < 64; i++) {
        char id[16];
        uint32_t h = 2166136261u; /* FNV-1a, 32 bits, as docs/scaling.md states */
        const unsigned char *p;
        snprintf(id, sizeof id, "joke-%d", i);
        for (p = (const unsigned char *)id; *p; p++)
            h = (h ^ *p) * 16777619u;
        snprintf(want, sizeof want, "TOP_PERFORMERS#%u", (unsigned)(h % 4));
        dr__top_partition(4, id, out);
        assert_string_equal(out, want);
        seen[h % 4]++;
    }
    for (i = 0; i < 4; i++) /* the ids spread over every partition */
        assert_true(seen[i] > 0);
}

/* ---- JSON renderings ------------------------------------------------------------------- */

static void test_stats_json(void **state)
{
    dr_counts c = {5, 19, {0, 1, 0, 1, 3}};
    dr_stats *s;
    char *json = NULL;
    (void)state;

    s = dr__stats_new("never", NULL, NULL, 0);
    assert_non_null(s);
    assert_int_equal(dr_stats_to_json(s, &json), DR_OK);
    /* The JavaScript readStats() answer for a joke with no stats item. */
    assert_string_equal(json, "{\"counts\":{\"1\":0,\"2\":0,\"3\":0,\"4\":0,\"5\":0},"
                              "\"totalRatings\":0,\"average\":0,\"ratings\":[],"
                              "\"jokeId\":\"never\"}");
    dr_free(json);
    dr_stats_free(s);

    s = dr__stats_new("pun \"1\"", &c, "2026-11-25T11:51:17.123Z", 1);
    assert_non_null(s);
    assert_int_equal(dr_stats_to_json(s, &json), DR_OK);
    assert_string_equal(json, "{\"counts\":{\"1\":0,\"2\":1,\"3\":0,\"4\":1,\"5\":3},"
                              "\"totalRatings\":5,\"average\":3.8,\"jokeId\":\"pun \\\"1\\\"\","
                              "\"lastRatedAt\":\"2026-11-25T11:51:17.123Z\"}");
    dr_free(json);
    s->pending = 1;
    assert_int_equal(dr_stats_to_json(s, &json), DR_OK);
    assert_non_null(strstr(json, ",\"pending\":true}"));
    dr_free(json);
    dr_stats_free(s);

    assert_int_equal(dr_stats_to_json(NULL, &json), DR_E_INVALID_ARGUMENT);
    assert_null(json);
}

static char *copy(const char *s)
{
    char *c = dr__strdup(s);
    assert_non_null(c);
    return c;
}

/* A dashboard as dashboard_stats would hold it, built by hand. */
static dr_dashboard *hand_built_dashboard(void)
{
    dr_dashboard *d = dr__calloc(1, sizeof *d);
    dr_counts global = {5, 21, {0, 1, 0, 1, 3}};
    dr_counts ann = {3, 13, {0, 0, 0, 2, 1}}, bob = {2, 7, {0, 1, 0, 0, 1}};

    assert_non_null(d);
    d->global = global;
    d->unique_jokes = 2;
    d->authors = dr__calloc(2, sizeof *d->authors);
    d->top = dr__calloc(1, sizeof *d->top);
    d->recent = dr__calloc(2, sizeof *d->recent);
    assert_true(d->authors && d->top && d->recent);
    d->author_count = 2;
    d->authors[0].name = copy("Ann \"the pun\"\nSmith");
    d->authors[0].counts = ann;
    d->authors[1].name = copy("Bob");
    d->authors[1].counts = bob;

    d->top_count = 1; /* rated without jokeText: the "joke" key is absent */
    d->top[0].joke_id = copy("j1");
    d->top[0].author.value = copy("Ann");
    d->top[0].total = 3;
    d->top[0].average_hundredths = 433;
    d->top[0].last_rated_at.value = copy("2026-01-02T03:04:05.678Z");

    d->recent_count = 2;
    d->recent[0].joke_id = copy("j2");
    d->recent[0].rating = 5;
    d->recent[0].joke_text.is_null = 1; /* a NULL attribute: the key with null */
    d->recent[0].author.value = copy("Bob");
    d->recent[0].mode.value = copy("live");
    d->recent[0].date.value = copy("2026-01-02");
    d->recent[0].submitted_at.value = copy("2026-01-02T03:04:05.678Z");
    d->recent[1].joke_id = copy("ctl");
    d->recent[1].rating = 2;
    d->recent[1].joke_text.value = copy("t\there\x01\x1f\\\"q\"\r\b\f\x7f\xc3\xa9");
    d->recent[1].mode.value = copy("daily");
    return d;
}

static const char expected_dashboard_json[] =
    "{\"totals\":{\"overallRatings\":5,\"overallAverage\":4.2,\"uniqueJokes\":2,"
    "\"ratingCounts\":{\"1\":0,\"2\":1,\"3\":0,\"4\":1,\"5\":3},"
    "\"byAuthor\":[{\"author\":\"Ann \\\"the pun\\\"\\nSmith\",\"totalRatings\":3,"
    "\"average\":4.33},{\"author\":\"Bob\",\"totalRatings\":2,\"average\":3.5}]},"
    "\"ratingDistribution\":{\"overall\":{\"1\":0,\"2\":1,\"3\":0,\"4\":1,\"5\":3},"
    "\"byAuthor\":{\"Ann \\\"the pun\\\"\\nSmith\":{\"1\":0,\"2\":0,\"3\":0,\"4\":2,\"5\":1},"
    "\"Bob\":{\"1\":0,\"2\":1,\"3\":0,\"4\":0,\"5\":1}}},"
    "\"topPerformers\":[{\"jokeId\":\"j1\",\"author\":\"Ann\",\"totalRatings\":3,"
    "\"average\":4.33,\"lastRatedAt\":\"2026-01-02T03:04:05.678Z\"}],"
    "\"recentRatings\":[{\"jokeId\":\"j2\",\"rating\":5,\"joke\":null,\"author\":\"Bob\","
    "\"mode\":\"live\",\"date\":\"2026-01-02\",\"submittedAt\":\"2026-01-02T03:04:05.678Z\"},"
    "{\"jokeId\":\"ctl\",\"rating\":2,"
    "\"joke\":\"t\\there\\u0001\\u001f\\\\\\\"q\\\"\\r\\b\\f\x7f\xc3\xa9\",\"mode\":\"daily\"}]}";

static void test_dashboard_json(void **state)
{
    dr_dashboard *d = hand_built_dashboard();
    json_t *parsed;
    char *json = NULL;
    (void)state;
    assert_int_equal(dr_dashboard_to_json(d, &json), DR_OK);
    assert_string_equal(json, expected_dashboard_json);
    /* Valid JSON whose strings read back as they were. */
    parsed = json_loads(json, 0, NULL);
    assert_non_null(parsed);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(parsed, "recentRatings"), 1), "joke")),
        d->recent[1].joke_text.value);
    assert_null(json_object_get(json_array_get(json_object_get(parsed, "topPerformers"), 0),
                                "joke"));
    json_decref(parsed);
    dr_free(json);
    dr_dashboard_free(d);
}

/* ---- allocation failure ---------------------------------------------------------------- */

/* Run `op` failing allocation 1, 2, ... until it succeeds: each failure must be
 * DR_E_NOMEM (ASan/valgrind check that nothing leaks or is touched after free). Returns
 * how many allocations a successful run makes. */
#define ALLOC_SWEEP(op_call, on_fail)                                                     \
    do {                                                                                  \
        long n_;                                                                          \
        for (n_ = 1;; n_++) {                                                             \
            dr_status rc_;                                                                \
            dr_test_alloc_fail_after(n_);                                                 \
            rc_ = (op_call);                                                              \
            dr_test_alloc_fail_after(0);                                                  \
            if (rc_ == DR_OK)                                                             \
                break;                                                                    \
            if (rc_ != DR_E_NOMEM)                                                        \
                fail_msg("%s, allocation %ld failed: %s, not DR_E_NOMEM", #op_call, n_,   \
                         dr_strerror(rc_));                                               \
            on_fail;                                                                      \
            assert_true(n_ < 1000);                                                       \
        }                                                                                 \
        assert_true(n_ > 1); /* at least one allocation was failed */                     \
    } while (0)

static void test_alloc_failure_results(void **state)
{
    dr_counts c = {5, 19, {0, 1, 0, 1, 3}};
    dr_stats *s = dr__stats_new("j", &c, "2026-01-01T00:00:00.000Z", 1);
    dr_dashboard *d = hand_built_dashboard();
    char *json = NULL;
    (void)state;
    ALLOC_SWEEP(dr_stats_to_json(s, &json), assert_null(json));
    dr_free(json);
    ALLOC_SWEEP(dr_dashboard_to_json(d, &json), assert_null(json));
    assert_string_equal(json, expected_dashboard_json);
    dr_free(json);
    dr_dashboard_free(d);
    dr_stats_free(s);
}

static void test_alloc_failure_rating(void **state)
{
    dr_rating *r = NULL;
    (void)state;
    ALLOC_SWEEP(dr_rating_new(&r, "joke", 4), assert_null(r));
    ALLOC_SWEEP(dr_rating_set_joke_text(r, "text"), assert_null(r->joke_text));
    ALLOC_SWEEP(dr_rating_set_author(r, "Ann"), assert_null(r->author));
    ALLOC_SWEEP(dr_rating_set_mode(r, "daily"), assert_null(r->mode));
    ALLOC_SWEEP(dr_rating_set_date(r, "2024-02-29"), assert_null(r->date));
    ALLOC_SWEEP(dr_rating_set_idempotency_key(r, "k-1"), assert_null(r->idempotency_key));
    /* A failed replacement keeps the old value. */
    ALLOC_SWEEP(dr_rating_set_author(r, "Bob"), assert_string_equal(r->author, "Ann"));
    assert_string_equal(r->joke_id, "joke");
    assert_string_equal(r->author, "Bob");
    assert_string_equal(r->date, "2024-02-29");
    dr_rating_free(r);
}

static void test_alloc_failure_config(void **state)
{
    dr_config *cfg = NULL;
    (void)state;
    ALLOC_SWEEP(dr_config_new(&cfg), assert_null(cfg));
    ALLOC_SWEEP(dr_config_set_region(cfg, "eu-west-1"), assert_null(cfg->region));
    ALLOC_SWEEP(dr_config_set_endpoint(cfg, "http://127.0.0.1:8000"), assert_null(cfg->endpoint));
    ALLOC_SWEEP(dr_config_set_credentials(cfg, "AKID", "secret", "token"),
                assert_true(!cfg->access_key_id && !cfg->secret_access_key &&
                            !cfg->session_token));
    ALLOC_SWEEP(dr_config_set_profile(cfg, "dev"), assert_null(cfg->profile));
    ALLOC_SWEEP(dr_config_set_ratings_table(cfg, "ratings"), assert_null(cfg->ratings_table));
    ALLOC_SWEEP(dr_config_set_stats_table(cfg, "stats"), assert_null(cfg->stats_table));
    assert_string_equal(cfg->secret_access_key, "secret");
    assert_string_equal(cfg->stats_table, "stats");
    dr_config_free(cfg);
}

/* Records that are not ratings to count: an idempotency marker, an item of another key
 * space, and a rating written inline. None needs the network. */
static const char skipped_batch[] =
    "{\"Records\":["
    "{\"eventID\":\"1\",\"eventName\":\"INSERT\",\"dynamodb\":{\"Keys\":{\"PK\":{\"S\":\"JOKE#a\"},"
    "\"SK\":{\"S\":\"IDEMPOTENCY#k\"}},\"SequenceNumber\":\"1\"}},"
    "{\"eventID\":\"2\",\"eventName\":\"INSERT\",\"dynamodb\":{\"Keys\":{\"PK\":{\"S\":\"OTHER#x\"},"
    "\"SK\":{\"S\":\"RATING#x\"}},\"SequenceNumber\":\"2\"}},"
    "{\"eventID\":\"3\",\"eventName\":\"INSERT\",\"dynamodb\":{\"Keys\":{\"PK\":{\"S\":\"JOKE#a\"},"
    "\"SK\":{\"S\":\"RATING#2026-01-01T00:00:00.000Z#u\"}},\"NewImage\":{\"rating\":{\"N\":\"4\"},"
    "\"aggregation\":{\"S\":\"inline\"}},\"SequenceNumber\":\"3\"}}]}";

/* jansson's allocations can be made to fail: 1 = the next one. */
static long g_json_fail_countdown;

static void *failing_json_malloc(size_t n)
{
    if (g_json_fail_countdown > 0 && --g_json_fail_countdown == 0)
        return NULL;
    return malloc(n);
}

static dr_client *offline_client(void)
{
    dr_config *cfg = NULL;
    dr_client *c = NULL;
    assert_int_equal(dr_config_new(&cfg), DR_OK);
    assert_int_equal(dr_config_set_region(cfg, "us-east-1"), DR_OK);
    assert_int_equal(dr_config_set_endpoint(cfg, "http://127.0.0.1:9"), DR_OK);
    assert_int_equal(dr_config_set_credentials(cfg, "AKID", "secret", NULL), DR_OK);
    assert_int_equal(dr_client_new(&c, cfg), DR_OK);
    dr_config_free(cfg);
    return c;
}

static void test_alloc_failure_stream_batch(void **state)
{
    dr_client *c = offline_client();
    dr_batch_result *r = NULL;
    uint64_t requests = 1;
    dr_status rc;
    (void)state;
    ALLOC_SWEEP(dr_client_apply_stream_batch(c, skipped_batch, strlen(skipped_batch), &r),
                assert_null(r));
    assert_int_equal(dr_batch_result_applied(r), 0);
    assert_int_equal(dr_batch_result_skipped(r), 3);
    assert_int_equal(dr_batch_result_failed_count(r), 0);
    dr_batch_result_free(r);

    /* jansson out of memory while parsing is DR_E_NOMEM (retry the batch), not a
     * malformed batch. Only its first allocation is failed here: jansson 2.14 reports
     * a failed string allocation in its lexer as a syntax error, and under some later
     * failures its lexer asserts or corrupts the heap (lex_scan_string, load.c:442),
     * so a full sweep tests jansson, not this library. */
    g_json_fail_countdown = 1;
    rc = dr_client_apply_stream_batch(c, skipped_batch, strlen(skipped_batch), &r);
    g_json_fail_countdown = 0;
    assert_int_equal(rc, DR_E_NOMEM);
    assert_null(r);
    assert_int_equal(dr_client_counter(c, DR_COUNTER_REQUESTS, &requests), DR_OK);
    assert_true(requests == 0);
    dr_client_free(c);
}

/* A keyed rating's item is named by its key: the same key, the same UUID (version 8,
 * RFC 9562 variant), different keys, different UUIDs; a random one is version 4. */
static void test_uuid_of_key(void **state)
{
    char a[37], b[37], c[37], r[37];
    (void)state;
    assert_int_equal(dr__uuid_of_key("s3v1:abc", a), DR_OK);
    assert_int_equal(dr__uuid_of_key("s3v1:abc", b), DR_OK);
    assert_int_equal(dr__uuid_of_key("s3v1:abd", c), DR_OK);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(a[14], '8');
    assert_non_null(strchr("89ab", a[19]));
    assert_int_equal(dr__uuid_v4(r), DR_OK);
    assert_int_equal(r[14], '4');
}

/* The bulk commit's cut (dr__bulk_pack): whole transactions within the item limit, a
 * joke's stats item once in each, many jokes sharing one. */
enum { PACK_N = 120 };

/* Rating i is of joke joke_of[i] by author author_of[i] ("a0", "a1", ...), keyed. */
static size_t pack_of(dr_client *c, const int *joke_of, const int *author_of, size_t n)
{
    dr_rating *r[PACK_N] = {NULL};
    char joke[16], author[16];
    size_t i, cut;
    for (i = 0; i < n; i++) {
        snprintf(joke, sizeof joke, "joke-%02d", joke_of[i]);
        snprintf(author, sizeof author, "a%d", author_of[i]);
        assert_int_equal(dr_rating_new(&r[i], joke, 4), DR_OK);
        assert_int_equal(dr_rating_set_author(r[i], author), DR_OK);
        assert_int_equal(dr_rating_set_idempotency_key(r[i], joke), DR_OK);
    }
    cut = dr__bulk_pack(c, (const dr_rating *const *)r, n);
    for (i = 0; i < n; i++)
        dr_rating_free(r[i]);
    return cut;
}

static void test_bulk_pack(void **state)
{
    dr_client *c = offline_client();
    int joke[PACK_N] = {0}, author[PACK_N] = {0};
    size_t i;
    (void)state;
    assert_int_equal(pack_of(c, joke, author, 0), 0);

    /* One joke, one author: 48 ratings (96 items) + stats, GLOBAL shard, author = 99. */
    for (i = 0; i < PACK_N; i++)
        joke[i] = author[i] = 0;
    assert_int_equal(pack_of(c, joke, author, 1), 1);
    assert_int_equal(pack_of(c, joke, author, PACK_N), DR_BULK_MAX_RATINGS);
    assert_int_equal(DR_BULK_MAX_RATINGS, 48);

    /* Jokes of 10 ratings, two authors taking turns: joke 0 costs 20 + 3, joke 1 20 + 2
     * (its author), jokes 2 and 3 20 + 1 each (87); joke 4 fits 6 ratings (3 + 5 x 2). */
    for (i = 0; i < PACK_N; i++) {
        joke[i] = (int)(i / 10);
        author[i] = joke[i] % 2;
    }
    assert_int_equal(pack_of(c, joke, author, PACK_N), 46);

    /* A joke coming back, with another author or after another joke, ends it: its stats
     * item may appear once in a transaction. */
    author[5] = 1;
    assert_int_equal(pack_of(c, joke, author, PACK_N), 5);
    author[5] = 0;
    joke[12] = 0;
    assert_int_equal(pack_of(c, joke, author, PACK_N), 12);
    dr_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_average_matches_javascript),
        cmocka_unit_test(test_format_hundredths),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_validators),
        cmocka_unit_test(test_uuid_of_key),
        cmocka_unit_test(test_bulk_pack),
        cmocka_unit_test(test_top_sort_key_order),
        cmocka_unit_test(test_top_partition),
        cmocka_unit_test(test_stats_json),
        cmocka_unit_test(test_dashboard_json),
        cmocka_unit_test(test_alloc_failure_results),
        cmocka_unit_test(test_alloc_failure_rating),
        cmocka_unit_test(test_alloc_failure_config),
        cmocka_unit_test(test_alloc_failure_stream_batch),
    };
    /* Before any jansson allocation, so every block it frees came from malloc. */
    json_set_alloc_funcs(failing_json_malloc, free);
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}

/** Tag numbers and tag types of the RPM header format (rpmtag.h), as far as this library uses them. */

export const TYPE = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

export const MAX_TYPE = 9;

/** Element size in the data store of the fixed-size types (0 = variable: strings). */
export const TYPE_SIZE: readonly number[] = [0, 1, 1, 2, 4, 8, 0, 1, 0, 0];

export const TAG = {
  HEADERIMAGE: 61,
  HEADERSIGNATURES: 62,
  HEADERIMMUTABLE: 63,
  HEADERI18NTABLE: 100,

  SIGSIZE: 257,
  SIGPGP: 259,
  SIGMD5: 261,
  SIGGPG: 262,
  SIGPGP5: 263,
  DSAHEADER: 267,
  RSAHEADER: 268,
  SHA1HEADER: 269,
  LONGSIGSIZE: 270,
  LONGARCHIVESIZE: 271,
  SHA256HEADER: 273,

  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  DESCRIPTION: 1005,
  BUILDTIME: 1006,
  BUILDHOST: 1007,
  SIZE: 1009,
  DISTRIBUTION: 1010,
  VENDOR: 1011,
  GIF: 1012,
  XPM: 1013,
  LICENSE: 1014,
  PACKAGER: 1015,
  GROUP: 1016,
  URL: 1020,
  OS: 1021,
  ARCH: 1022,
  PREIN: 1023,
  POSTIN: 1024,
  PREUN: 1025,
  POSTUN: 1026,
  OLDFILENAMES: 1027,
  FILESIZES: 1028,
  FILEMODES: 1030,
  FILERDEVS: 1033,
  FILEMTIMES: 1034,
  FILEDIGESTS: 1035,
  FILELINKTOS: 1036,
  FILEFLAGS: 1037,
  FILEUSERNAME: 1039,
  FILEGROUPNAME: 1040,
  ICON: 1043,
  SOURCERPM: 1044,
  FILEVERIFYFLAGS: 1045,
  ARCHIVESIZE: 1046,
  PROVIDENAME: 1047,
  REQUIREFLAGS: 1048,
  REQUIRENAME: 1049,
  REQUIREVERSION: 1050,
  CONFLICTFLAGS: 1053,
  CONFLICTNAME: 1054,
  CONFLICTVERSION: 1055,
  RPMVERSION: 1064,
  VERIFYSCRIPT: 1079,
  CHANGELOGTIME: 1080,
  CHANGELOGNAME: 1081,
  CHANGELOGTEXT: 1082,
  PREINPROG: 1085,
  POSTINPROG: 1086,
  PREUNPROG: 1087,
  POSTUNPROG: 1088,
  BUILDARCHS: 1089,
  OBSOLETENAME: 1090,
  VERIFYSCRIPTPROG: 1091,
  COOKIE: 1094,
  FILEDEVICES: 1095,
  FILEINODES: 1096,
  FILELANGS: 1097,
  PREFIXES: 1098,
  INSTPREFIXES: 1099,
  SOURCEPACKAGE: 1106,
  PROVIDEFLAGS: 1112,
  PROVIDEVERSION: 1113,
  OBSOLETEFLAGS: 1114,
  OBSOLETEVERSION: 1115,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  OPTFLAGS: 1122,
  DISTURL: 1123,
  PAYLOADFORMAT: 1124,
  PAYLOADCOMPRESSOR: 1125,
  PAYLOADFLAGS: 1126,
  PLATFORM: 1132,
  FILECLASS: 1141,
  CLASSDICT: 1142,
  PRETRANS: 1151,
  POSTTRANS: 1152,
  PRETRANSPROG: 1153,
  POSTTRANSPROG: 1154,
  DISTTAG: 1155,
  LONGFILESIZES: 5008,
  LONGSIZE: 5009,
  FILEDIGESTALGO: 5011,
  VCS: 5034,
  RPMFORMAT: 5114,

  // apt-rpm (genpkglist / gensrclist) tags in pkglist / srclist headers
  APT_FILENAME: 1000000,
  APT_FILESIZE: 1000001,
  APT_MD5: 1000005,
  APT_SHA1: 1000006,
  APT_BLAKE2B: 1000009,
  APT_DIRECTORY: 1000010,
  APT_BINARY: 1000011,
} as const;

/** Signature-header tag numbers (rpmsigtag), before translation to main-header tags. */
export const SIGTAG = {
  SIZE: 1000,
  PGP: 1002,
  MD5: 1004,
  GPG: 1005,
  PGP5: 1006,
  PAYLOADSIZE: 1007,
  RESERVEDSPACE: 1008,
  SHA1: 269,
  LONGSIZE: 270,
  LONGARCHIVESIZE: 271,
  FILESIGNATURES: 274,
  FILESIGNATURELENGTH: 275,
} as const;

/**
 * librpm's headerMergeLegacySigs: signature tags that are copied to the main header under another
 * number. Other signature tags in 256..999 keep their number; anything else is dropped.
 */
const RENUMBERED: readonly [sig: number, main: number][] = [
  [SIGTAG.SIZE, TAG.SIGSIZE],
  [SIGTAG.PGP, TAG.SIGPGP],
  [SIGTAG.MD5, TAG.SIGMD5],
  [SIGTAG.GPG, TAG.SIGGPG],
  [SIGTAG.PGP5, TAG.SIGPGP5],
  [SIGTAG.PAYLOADSIZE, TAG.ARCHIVESIZE],
  [SIGTAG.FILESIGNATURES, 5090],
  [SIGTAG.FILESIGNATURELENGTH, 5091],
];
const SIG_TO_MAIN = new Map(RENUMBERED);
const MAIN_TO_SIG = new Map(RENUMBERED.map(([sig, main]) => [main, sig]));
const keepsNumber = (tag: number) => tag >= 256 && tag < 1000;

/** The main-header tag a signature tag is copied to, or 0 when the signature tag is dropped. */
export function sigToMainTag(sigTag: number): number {
  return SIG_TO_MAIN.get(sigTag) ?? (keepsNumber(sigTag) ? sigTag : 0);
}

/** The inverse of sigToMainTag for the tags a package reader looks up (0 = none). */
export function mainToSigTag(mainTag: number): number {
  return MAIN_TO_SIG.get(mainTag) ?? (keepsNumber(mainTag) && !SIG_TO_MAIN.has(mainTag) ? mainTag : 0);
}

export function isRegionTag(tag: number): boolean {
  return tag === TAG.HEADERIMAGE || tag === TAG.HEADERSIGNATURES || tag === TAG.HEADERIMMUTABLE;
}

/**
 * The sandbox's SYNTHETIC population: no real person. Every personal ID number starts with `099`, a
 * province code that does not exist (codes run 001–096), and every old ID card number with `99`, so a
 * sandbox record can never be mistaken for, or collide with, a real citizen. A few hand-written demo
 * households (documented in docs/sandbox.md) cover the interesting cases: a dead grandfather, a missing
 * husband, an orphan with a guardian; a seeded generator adds more ordinary households.
 */

/** Whether a citizen is alive, dead or declared missing (service 11 of seed 000). */
export type LifeStatus = 'CON_SONG' | 'DA_CHET' | 'MAT_TICH';

/** Marital status codes the sandbox answers with (service 10 of seed 000; the seed gives no code list). */
export const MARITAL_STATUS = {
  '1': 'Chưa kết hôn',
  '2': 'Đã kết hôn',
  '3': 'Đã ly hôn',
  '4': 'Góa',
} as const;
export type MaritalCode = keyof typeof MARITAL_STATUS;

export interface Citizen {
  /** 12-digit personal identification number. */
  soDinhDanh: string;
  /** Old 9-digit ID card (CMND), for people old enough to have had one. */
  soCMND?: string;
  hoVaTen: string;
  /** 1 male, 2 female (seed 001 part C §5.3: one digit). */
  gioiTinh: '1' | '2';
  /** YYYYMMDD, as VNeID returns it (seed 001). */
  ngayThangNamSinh: string;
  danToc: string;
  quocTich: string;
  queQuan: string;
  noiThuongTru: string;
  noiOHienTai: string;
  hoVaTenCha?: string;
  soDinhDanhCha?: string;
  hoVaTenMe?: string;
  soDinhDanhMe?: string;
  /** Household code; null for the dead (their permanent residence is struck off). */
  maHoGiaDinh: string | null;
  quanHeVoiChuHo?: string;
  nhomMau: 'O' | 'A' | 'B' | 'AB';
  tinhTrangHonNhan: MaritalCode;
  soDinhDanhVoChong?: string;
  tinhTrang: LifeStatus;
  /** YYYYMMDD of death or of the missing declaration. */
  ngayChet?: string;
  ngayMatTich?: string;
  soDinhDanhNguoiGiamHo?: string;
  /** VNeID account level: 0 none, 1 level 1, 2 level 2 (seed 001 part A §7, loAS). */
  mucDinhDanh: 0 | 1 | 2;
}

export interface Household {
  maHoGiaDinh: string;
  soDinhDanhChuHo: string;
  diaChi: string;
}

export interface Population {
  readonly citizens: readonly Citizen[];
  readonly households: readonly Household[];
}

const CITY = 'thành phố Thử Nghiệm';

/** Demo citizens named in docs/sandbox.md; tests and README curl examples rely on these exact records. */
export const DEMO_IDS = {
  /** Head of household 1, alive, married, level-2 VNeID account. */
  nguyenVanMinh: '099075000101',
  tranThiHuong: '099178000102',
  nguyenVanAn: '099205000103',
  nguyenThiBaoNgoc: '099312000104',
  /** Dead (2021), father of Nguyễn Văn Minh. */
  nguyenVanTam: '099045000105',
  /** Head of household 2, her husband is missing. */
  leThiMai: '099180000201',
  /** Declared missing (2019). */
  phamVanHai: '099079000202',
  phamThiLan: '099310000203',
  phamMinhKhoi: '099216000204',
  /** Head of household 3, guardian of his orphaned grandson. */
  hoangVanDung: '099060000301',
  vuThiHanh: '099162000302',
  /** Orphan (both parents dead in 2018), guardian Hoàng Văn Dũng. */
  hoangGiaHuy: '099214000303',
  hoangVanSon: '099086000304',
  doThiThu: '099188000305',
  /** Young woman living alone, level-1 VNeID account. */
  buiThiThao: '099199000401',
} as const;

function demoCitizens(): { citizens: Citizen[]; households: Household[] } {
  const h1 = `Số 12 ngõ 5 phố Hoa Sữa, phường Minh Khai, ${CITY}`;
  const h2 = `Thôn Đông, xã An Hòa, ${CITY}`;
  const h3 = `Số 40 đường Lê Lợi, phường Tân Tiến, ${CITY}`;
  const h4 = `Phòng 1203 chung cư Sao Mai, phường Minh Khai, ${CITY}`;
  const base = { danToc: 'Kinh', quocTich: 'Việt Nam', mucDinhDanh: 0 as const };
  /** A child who lives with both parents in the household the father heads: only who the child is differs. */
  const childOf =
    (home: string, queQuan: string, father: [string, string], mother: [string, string], maHoGiaDinh: string) =>
    (
      soDinhDanh: string,
      hoVaTen: string,
      gioiTinh: Citizen['gioiTinh'],
      ngayThangNamSinh: string,
      nhomMau: Citizen['nhomMau'],
    ): Citizen => ({
      ...base,
      soDinhDanh,
      hoVaTen,
      gioiTinh,
      ngayThangNamSinh,
      queQuan,
      noiThuongTru: home,
      noiOHienTai: home,
      hoVaTenCha: father[0],
      soDinhDanhCha: father[1],
      hoVaTenMe: mother[0],
      soDinhDanhMe: mother[1],
      maHoGiaDinh,
      quanHeVoiChuHo: 'Con',
      nhomMau,
      tinhTrangHonNhan: '1',
      tinhTrang: 'CON_SONG',
    });
  const childOfMinhAndHuong = childOf(
    h1,
    `Xã An Hòa, ${CITY}`,
    ['Nguyễn Văn Minh', DEMO_IDS.nguyenVanMinh],
    ['Trần Thị Hương', DEMO_IDS.tranThiHuong],
    'HGD-0990001',
  );
  const childOfHaiAndMai = childOf(
    h2,
    `Xã Bình Lộc, ${CITY}`,
    ['Phạm Văn Hải', DEMO_IDS.phamVanHai],
    ['Lê Thị Mai', DEMO_IDS.leThiMai],
    'HGD-0990002',
  );
  const citizens: Citizen[] = [
    {
      ...base,
      soDinhDanh: DEMO_IDS.nguyenVanMinh,
      soCMND: '990000101',
      hoVaTen: 'Nguyễn Văn Minh',
      gioiTinh: '1',
      ngayThangNamSinh: '19750314',
      queQuan: `Xã An Hòa, ${CITY}`,
      noiThuongTru: h1,
      noiOHienTai: h1,
      hoVaTenCha: 'Nguyễn Văn Tâm',
      soDinhDanhCha: DEMO_IDS.nguyenVanTam,
      hoVaTenMe: 'Đặng Thị Lụa',
      maHoGiaDinh: 'HGD-0990001',
      quanHeVoiChuHo: 'Chủ hộ',
      nhomMau: 'O',
      tinhTrangHonNhan: '2',
      soDinhDanhVoChong: DEMO_IDS.tranThiHuong,
      tinhTrang: 'CON_SONG',
      mucDinhDanh: 2,
    },
    {
      ...base,
      soDinhDanh: DEMO_IDS.tranThiHuong,
      soCMND: '990000102',
      hoVaTen: 'Trần Thị Hương',
      gioiTinh: '2',
      ngayThangNamSinh: '19780702',
      queQuan: `Phường Tân Tiến, ${CITY}`,
      noiThuongTru: h1,
      noiOHienTai: h1,
      hoVaTenCha: 'Trần Văn Lộc',
      hoVaTenMe: 'Phan Thị Yến',
      maHoGiaDinh: 'HGD-0990001',
      quanHeVoiChuHo: 'Vợ',
      nhomMau: 'A',
      tinhTrangHonNhan: '2',
      soDinhDanhVoChong: DEMO_IDS.nguyenVanMinh,
      tinhTrang: 'CON_SONG',
      mucDinhDanh: 1,
    },
    {
      ...base,
      soDinhDanh: DEMO_IDS.nguyenVanAn,
      hoVaTen: 'Nguyễn Văn An',
      gioiTinh: '1',
      ngayThangNamSinh: '20050921',
      queQuan: `Xã An Hòa, ${CITY}`,
      noiThuongTru: h1,
      // Studies in another ward: current residence differs from permanent residence.
      noiOHienTai: `Ký túc xá Đại học Thử Nghiệm, phường Tân Tiến, ${CITY}`,
      hoVaTenCha: 'Nguyễn Văn Minh',
      soDinhDanhCha: DEMO_IDS.nguyenVanMinh,
      hoVaTenMe: 'Trần Thị Hương',
      soDinhDanhMe: DEMO_IDS.tranThiHuong,
      maHoGiaDinh: 'HGD-0990001',
      quanHeVoiChuHo: 'Con',
      nhomMau: 'O',
      tinhTrangHonNhan: '1',
      tinhTrang: 'CON_SONG',
    },
    childOfMinhAndHuong(DEMO_IDS.nguyenThiBaoNgoc, 'Nguyễn Thị Bảo Ngọc', '2', '20120130', 'A'),
    {
      ...base,
      soDinhDanh: DEMO_IDS.nguyenVanTam,
      soCMND: '990000105',
      hoVaTen: 'Nguyễn Văn Tâm',
      gioiTinh: '1',
      ngayThangNamSinh: '19450505',
      queQuan: `Xã An Hòa, ${CITY}`,
      noiThuongTru: h1,
      noiOHienTai: h1,
      hoVaTenCha: 'Nguyễn Văn Thành',
      hoVaTenMe: 'Lý Thị Nụ',
      maHoGiaDinh: null,
      nhomMau: 'B',
      tinhTrangHonNhan: '4',
      tinhTrang: 'DA_CHET',
      ngayChet: '20211103',
    },
    {
      ...base,
      soDinhDanh: DEMO_IDS.leThiMai,
      soCMND: '990000201',
      hoVaTen: 'Lê Thị Mai',
      gioiTinh: '2',
      ngayThangNamSinh: '19801212',
      queQuan: `Thôn Đông, xã An Hòa, ${CITY}`,
      noiThuongTru: h2,
      noiOHienTai: h2,
      hoVaTenCha: 'Lê Văn Khánh',
      hoVaTenMe: 'Ngô Thị Sen',
      maHoGiaDinh: 'HGD-0990002',
      quanHeVoiChuHo: 'Chủ hộ',
      nhomMau: 'B',
      tinhTrangHonNhan: '2',
      soDinhDanhVoChong: DEMO_IDS.phamVanHai,
      tinhTrang: 'CON_SONG',
      mucDinhDanh: 2,
    },
    {
      ...base,
      soDinhDanh: DEMO_IDS.phamVanHai,
      soCMND: '990000202',
      hoVaTen: 'Phạm Văn Hải',
      gioiTinh: '1',
      ngayThangNamSinh: '19790608',
      queQuan: `Xã Bình Lộc, ${CITY}`,
      noiThuongTru: h2,
      noiOHienTai: 'Không xác định',
      hoVaTenCha: 'Phạm Văn Thịnh',
      hoVaTenMe: 'Hồ Thị Xuân',
      maHoGiaDinh: 'HGD-0990002',
      quanHeVoiChuHo: 'Chồng',
      nhomMau: 'O',
      tinhTrangHonNhan: '2',
      soDinhDanhVoChong: DEMO_IDS.leThiMai,
      tinhTrang: 'MAT_TICH',
      ngayMatTich: '20190415',
    },
    childOfHaiAndMai(DEMO_IDS.phamThiLan, 'Phạm Thị Lan', '2', '20100322', 'B'),
    childOfHaiAndMai(DEMO_IDS.phamMinhKhoi, 'Phạm Minh Khôi', '1', '20161109', 'O'),
    {
      ...base,
      soDinhDanh: DEMO_IDS.hoangVanDung,
      soCMND: '990000301',
      hoVaTen: 'Hoàng Văn Dũng',
      gioiTinh: '1',
      ngayThangNamSinh: '19600918',
      queQuan: `Phường Tân Tiến, ${CITY}`,
      noiThuongTru: h3,
      noiOHienTai: h3,
      hoVaTenCha: 'Hoàng Văn Quý',
      hoVaTenMe: 'Dương Thị Tươi',
      maHoGiaDinh: 'HGD-0990003',
      quanHeVoiChuHo: 'Chủ hộ',
      nhomMau: 'AB',
      tinhTrangHonNhan: '2',
      soDinhDanhVoChong: DEMO_IDS.vuThiHanh,
      tinhTrang: 'CON_SONG',
      mucDinhDanh: 1,
    },
    {
      ...base,
      soDinhDanh: DEMO_IDS.vuThiHanh,
      soCMND: '990000302',
      hoVaTen: 'Vũ Thị Hạnh',
      gioiTinh: '2',
      ngayThangNamSinh: '19620227',
      queQuan: `Phường Tân Tiến, ${CITY}`,
      noiThuongTru: h3,
      noiOHienTai: h3,
      hoVaTenCha: 'Vũ Văn Thái',
      hoVaTenMe: 'Huỳnh Thị Gấm',
      maHoGiaDinh: 'HGD-0990003',
      quanHeVoiChuHo: 'Vợ',
      nhomMau: 'A',
      tinhTrangHonNhan: '2',
      soDinhDanhVoChong: DEMO_IDS.hoangVanDung,
      tinhTrang: 'CON_SONG',
    },
    {
      ...base,
      soDinhDanh: DEMO_IDS.hoangGiaHuy,
      hoVaTen: 'Hoàng Gia Huy',
      gioiTinh: '1',
      ngayThangNamSinh: '20140805',
      queQuan: `Phường Tân Tiến, ${CITY}`,
      noiThuongTru: h3,
      noiOHienTai: h3,
      hoVaTenCha: 'Hoàng Văn Sơn',
      soDinhDanhCha: DEMO_IDS.hoangVanSon,
      hoVaTenMe: 'Đỗ Thị Thu',
      soDinhDanhMe: DEMO_IDS.doThiThu,
      maHoGiaDinh: 'HGD-0990003',
      quanHeVoiChuHo: 'Cháu nội',
      nhomMau: 'AB',
      tinhTrangHonNhan: '1',
      tinhTrang: 'CON_SONG',
      soDinhDanhNguoiGiamHo: DEMO_IDS.hoangVanDung,
    },
    {
      ...base,
      soDinhDanh: DEMO_IDS.hoangVanSon,
      soCMND: '990000304',
      hoVaTen: 'Hoàng Văn Sơn',
      gioiTinh: '1',
      ngayThangNamSinh: '19860430',
      queQuan: `Phường Tân Tiến, ${CITY}`,
      noiThuongTru: h3,
      noiOHienTai: h3,
      hoVaTenCha: 'Hoàng Văn Dũng',
      soDinhDanhCha: DEMO_IDS.hoangVanDung,
      hoVaTenMe: 'Vũ Thị Hạnh',
      soDinhDanhMe: DEMO_IDS.vuThiHanh,
      maHoGiaDinh: null,
      nhomMau: 'A',
      tinhTrangHonNhan: '2',
      soDinhDanhVoChong: DEMO_IDS.doThiThu,
      tinhTrang: 'DA_CHET',
      ngayChet: '20180716',
    },
    {
      ...base,
      soDinhDanh: DEMO_IDS.doThiThu,
      soCMND: '990000305',
      hoVaTen: 'Đỗ Thị Thu',
      gioiTinh: '2',
      ngayThangNamSinh: '19881019',
      queQuan: `Xã Bình Lộc, ${CITY}`,
      noiThuongTru: h3,
      noiOHienTai: h3,
      hoVaTenCha: 'Đỗ Văn Hòa',
      hoVaTenMe: 'Lâm Thị Nga',
      maHoGiaDinh: null,
      nhomMau: 'AB',
      tinhTrangHonNhan: '2',
      soDinhDanhVoChong: DEMO_IDS.hoangVanSon,
      tinhTrang: 'DA_CHET',
      ngayChet: '20180716',
    },
    {
      ...base,
      soDinhDanh: DEMO_IDS.buiThiThao,
      hoVaTen: 'Bùi Thị Thảo',
      gioiTinh: '2',
      ngayThangNamSinh: '19990601',
      queQuan: `Xã An Hòa, ${CITY}`,
      noiThuongTru: h4,
      noiOHienTai: h4,
      hoVaTenCha: 'Bùi Văn Cường',
      hoVaTenMe: 'Trịnh Thị Hoa',
      maHoGiaDinh: 'HGD-0990004',
      quanHeVoiChuHo: 'Chủ hộ',
      nhomMau: 'AB',
      tinhTrangHonNhan: '1',
      tinhTrang: 'CON_SONG',
      mucDinhDanh: 1,
    },
  ];
  const households: Household[] = [
    { maHoGiaDinh: 'HGD-0990001', soDinhDanhChuHo: DEMO_IDS.nguyenVanMinh, diaChi: h1 },
    { maHoGiaDinh: 'HGD-0990002', soDinhDanhChuHo: DEMO_IDS.leThiMai, diaChi: h2 },
    { maHoGiaDinh: 'HGD-0990003', soDinhDanhChuHo: DEMO_IDS.hoangVanDung, diaChi: h3 },
    { maHoGiaDinh: 'HGD-0990004', soDinhDanhChuHo: DEMO_IDS.buiThiThao, diaChi: h4 },
  ];
  return { citizens, households };
}

const FAMILY_NAMES = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Phan', 'Vũ', 'Đặng', 'Bùi', 'Đỗ', 'Hồ', 'Ngô'];
const MALE_MIDDLE = ['Văn', 'Hữu', 'Đức', 'Minh', 'Quang', 'Thanh'];
const FEMALE_MIDDLE = ['Thị', 'Ngọc', 'Thu', 'Minh', 'Thanh', 'Kim'];
const MALE_GIVEN = ['Hùng', 'Tuấn', 'Long', 'Phong', 'Quân', 'Khang', 'Bảo', 'Đạt', 'Nam', 'Tùng', 'Việt', 'Trung'];
const FEMALE_GIVEN = ['Lan', 'Hoa', 'Linh', 'Trang', 'Nhung', 'Vy', 'Hà', 'Yến', 'Oanh', 'Phương', 'Dung', 'Chi'];
const STREETS = ['đường Trần Phú', 'đường Nguyễn Trãi', 'phố Hàng Than', 'đường Hai Bà Trưng', 'ngõ Trúc Lâm'];
const WARDS = ['phường Minh Khai', 'phường Tân Tiến', 'xã An Hòa', 'xã Bình Lộc'];
const BLOOD: Citizen['nhomMau'][] = ['O', 'A', 'B', 'AB'];

/** Small deterministic PRNG (mulberry32), so the generated population is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Builds a 12-digit synthetic ID: `099` (no such province), the gender-and-century digit the real
 * number uses (0/1 male/female born 1900s, 2/3 born 2000s), the two-digit birth year, a 6-digit serial.
 */
export function syntheticId(gender: '1' | '2', birthDate: string, serial: number): string {
  const year = Number(birthDate.slice(0, 4));
  const digit = (year >= 2000 ? 2 : 0) + (gender === '2' ? 1 : 0);
  return `099${digit}${birthDate.slice(2, 4)}${String(serial).padStart(6, '0')}`;
}

function generated(households: number, seed: number): { citizens: Citizen[]; households: Household[] } {
  const rand = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const date = (fromYear: number, toYear: number): string => {
    const y = fromYear + Math.floor(rand() * (toYear - fromYear + 1));
    const m = 1 + Math.floor(rand() * 12);
    const d = 1 + Math.floor(rand() * 28);
    return `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
  };
  let serial = 100000;
  const citizens: Citizen[] = [];
  const hhs: Household[] = [];
  for (let h = 0; h < households; h++) {
    const code = `HGD-099${String(1000 + h).padStart(4, '0')}`;
    const address = `Số ${1 + Math.floor(rand() * 150)} ${pick(STREETS)}, ${pick(WARDS)}, ${CITY}`;
    const family = pick(FAMILY_NAMES);
    const wifeFamily = pick(FAMILY_NAMES);
    const headBirth = date(1955, 1995);
    const wifeBirth = date(Number(headBirth.slice(0, 4)), Number(headBirth.slice(0, 4)) + 5);
    const head: Citizen = {
      soDinhDanh: syntheticId('1', headBirth, ++serial),
      soCMND: `99${String(serial).padStart(7, '0')}`,
      hoVaTen: `${family} ${pick(MALE_MIDDLE)} ${pick(MALE_GIVEN)}`,
      gioiTinh: '1',
      ngayThangNamSinh: headBirth,
      danToc: 'Kinh',
      quocTich: 'Việt Nam',
      queQuan: `${pick(WARDS)}, ${CITY}`,
      noiThuongTru: address,
      noiOHienTai: address,
      hoVaTenCha: `${family} Văn ${pick(MALE_GIVEN)}`,
      hoVaTenMe: `${pick(FAMILY_NAMES)} Thị ${pick(FEMALE_GIVEN)}`,
      maHoGiaDinh: code,
      quanHeVoiChuHo: 'Chủ hộ',
      nhomMau: pick(BLOOD),
      tinhTrangHonNhan: '2',
      tinhTrang: 'CON_SONG',
      mucDinhDanh: rand() < 0.5 ? 2 : 1,
    };
    const wife: Citizen = {
      ...head,
      soDinhDanh: syntheticId('2', wifeBirth, ++serial),
      soCMND: `99${String(serial).padStart(7, '0')}`,
      hoVaTen: `${wifeFamily} ${pick(FEMALE_MIDDLE)} ${pick(FEMALE_GIVEN)}`,
      gioiTinh: '2',
      ngayThangNamSinh: wifeBirth,
      hoVaTenCha: `${wifeFamily} Văn ${pick(MALE_GIVEN)}`,
      hoVaTenMe: `${pick(FAMILY_NAMES)} Thị ${pick(FEMALE_GIVEN)}`,
      quanHeVoiChuHo: 'Vợ',
      nhomMau: pick(BLOOD),
      soDinhDanhVoChong: head.soDinhDanh,
      mucDinhDanh: 0,
    };
    head.soDinhDanhVoChong = wife.soDinhDanh;
    citizens.push(head, wife);
    const children = Math.floor(rand() * 4);
    for (let c = 0; c < children; c++) {
      const gender: '1' | '2' = rand() < 0.5 ? '1' : '2';
      const birth = date(Number(wifeBirth.slice(0, 4)) + 20, Math.min(Number(wifeBirth.slice(0, 4)) + 40, 2023));
      citizens.push({
        soDinhDanh: syntheticId(gender, birth, ++serial),
        hoVaTen: `${family} ${pick(gender === '1' ? MALE_MIDDLE : FEMALE_MIDDLE)} ${pick(gender === '1' ? MALE_GIVEN : FEMALE_GIVEN)}`,
        gioiTinh: gender,
        ngayThangNamSinh: birth,
        danToc: 'Kinh',
        quocTich: 'Việt Nam',
        queQuan: head.queQuan,
        noiThuongTru: address,
        noiOHienTai: address,
        hoVaTenCha: head.hoVaTen,
        soDinhDanhCha: head.soDinhDanh,
        hoVaTenMe: wife.hoVaTen,
        soDinhDanhMe: wife.soDinhDanh,
        maHoGiaDinh: code,
        quanHeVoiChuHo: 'Con',
        nhomMau: pick([head.nhomMau, wife.nhomMau]),
        tinhTrangHonNhan: '1',
        tinhTrang: 'CON_SONG',
        mucDinhDanh: 0,
      });
    }
    hhs.push({ maHoGiaDinh: code, soDinhDanhChuHo: head.soDinhDanh, diaChi: address });
  }
  return { citizens, households: hhs };
}

/** The demo households plus `extraHouseholds` generated ones (deterministic for a given seed). */
export function buildPopulation(extraHouseholds = 8, seed = 6): Population {
  const demo = demoCitizens();
  const more = generated(extraHouseholds, seed);
  return {
    citizens: [...demo.citizens, ...more.citizens],
    households: [...demo.households, ...more.households],
  };
}

/** Population lookups by ID number, old ID card number, household and name. */
export class PopulationIndex {
  readonly #byId = new Map<string, Citizen>();
  readonly #byCmnd = new Map<string, Citizen>();
  readonly #households = new Map<string, Household>();
  readonly population: Population;

  constructor(population: Population) {
    this.population = population;
    for (const c of population.citizens) {
      this.#byId.set(c.soDinhDanh, c);
      if (c.soCMND) this.#byCmnd.set(c.soCMND, c);
    }
    for (const h of population.households) this.#households.set(h.maHoGiaDinh, h);
  }

  byId(id: string): Citizen | undefined {
    return this.#byId.get(id);
  }

  /** By old ID card: a 9-digit CMND, or a 12-digit card number (the CCCD number is the personal ID). */
  byCard(card: string): Citizen | undefined {
    return card.length === 12 ? this.#byId.get(card) : this.#byCmnd.get(card);
  }

  household(code: string | null): Household | undefined {
    return code ? this.#households.get(code) : undefined;
  }

  /** Living (or missing) members of a household, head first. */
  members(code: string): Citizen[] {
    const head = this.#households.get(code)?.soDinhDanhChuHo;
    return this.population.citizens
      .filter((c) => c.maHoGiaDinh === code)
      .sort((a, b) => (a.soDinhDanh === head ? -1 : b.soDinhDanh === head ? 1 : 0));
  }

  /** Service 4 of seed 000: by full name and birth year, optionally father's and mother's full names. */
  search(query: { hoVaTen: string; namSinh: string; hoVaTenCha?: string; hoVaTenMe?: string }): Citizen[] {
    const same = (a: string | undefined, b: string | undefined): boolean =>
      normaliseName(a ?? '') === normaliseName(b ?? '');
    return this.population.citizens.filter(
      (c) =>
        same(c.hoVaTen, query.hoVaTen) &&
        c.ngayThangNamSinh.startsWith(query.namSinh) &&
        (query.hoVaTenCha === undefined || same(c.hoVaTenCha, query.hoVaTenCha)) &&
        (query.hoVaTenMe === undefined || same(c.hoVaTenMe, query.hoVaTenMe)),
    );
  }
}

/** Case-, spacing- and Unicode-form-insensitive comparison key; diacritics still count (Hà ≠ Hạ). */
export function normaliseName(name: string): string {
  return name.normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase('vi');
}

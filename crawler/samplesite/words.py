"""Word lists the sample site builds its Indonesian-looking text from (data only)."""

from __future__ import annotations

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")  # Monday first, as datetime.weekday()
MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip

#: Dateline cities per region slug; the lists are disjoint so titles never repeat across hosts.
CITIES: dict[str, tuple[str, ...]] = {
    "nasional": ("Jakarta", "Jakarta", "Jakarta", "Beijing", "Jenewa", "Singapura", "Tokyo"),
    "aceh": ("Banda Aceh", "Lhokseumawe", "Meulaboh", "Sabang", "Takengon"),
    "bali": ("Denpasar", "Badung", "Gianyar", "Singaraja", "Tabanan"),
    "babel": ("Pangkalpinang", "Sungailiat", "Tanjung Pandan", "Muntok", "Toboali"),
    "banten": ("Serang", "Cilegon", "Tangerang", "Pandeglang", "Rangkasbitung"),
    "bengkulu": ("Bengkulu", "Curup", "Manna", "Mukomuko", "Argamakmur"),
    "gorontalo": ("Gorontalo", "Limboto", "Marisa", "Kwandang", "Tilamuta"),
    "jambi": ("Jambi", "Muara Bungo", "Sungai Penuh", "Kuala Tungkal", "Bangko"),
    "jabar": ("Bandung", "Bogor", "Bekasi", "Cirebon", "Tasikmalaya", "Sukabumi"),
    "jateng": ("Semarang", "Solo", "Purwokerto", "Tegal", "Magelang", "Kudus"),
    "jatim": ("Surabaya", "Malang", "Kediri", "Jember", "Madiun", "Banyuwangi"),
    "kalbar": ("Pontianak", "Singkawang", "Ketapang", "Sintang", "Sambas"),
    "kalsel": ("Banjarmasin", "Banjarbaru", "Martapura", "Kotabaru", "Tanjung"),
    "kalteng": ("Palangka Raya", "Sampit", "Pangkalan Bun", "Kuala Kapuas", "Pulang Pisau"),
    "kaltim": ("Samarinda", "Balikpapan", "Bontang", "Tenggarong", "Penajam"),
    "kaltara": ("Tanjung Selor", "Tarakan", "Nunukan", "Malinau", "Tideng Pale"),
    "kepri": ("Tanjungpinang", "Batam", "Karimun", "Natuna", "Bintan"),
    "kl": ("Kuala Lumpur", "Johor Bahru", "Penang", "Kota Kinabalu", "Kuching"),
    "lampung": ("Bandarlampung", "Metro", "Kalianda", "Kotabumi", "Pringsewu"),
    "ambon": ("Ambon", "Ternate", "Tual", "Masohi", "Sofifi"),
    "megapolitan": ("Jakarta Pusat", "Jakarta Selatan", "Jakarta Timur", "Jakarta Barat", "Jakarta Utara"),
    "mataram": ("Mataram", "Praya", "Sumbawa Besar", "Bima", "Selong"),
    "kupang": ("Kupang", "Ende", "Maumere", "Labuan Bajo", "Atambua"),
    "papua": ("Jayapura", "Sentani", "Merauke", "Biak", "Sarmi"),
    "papuabarat": ("Manokwari", "Sorong", "Fakfak", "Kaimana", "Bintuni"),
    "papuatengah": ("Nabire", "Timika", "Enarotali", "Ilaga", "Sugapa"),
    "riau": ("Pekanbaru", "Dumai", "Bengkalis", "Siak", "Rengat"),
    "makassar": ("Makassar", "Parepare", "Maros", "Sungguminasa", "Mamuju"),
    "sulteng": ("Palu", "Poso", "Luwuk", "Tolitoli", "Donggala"),
    "sultra": ("Kendari", "Baubau", "Kolaka", "Raha", "Unaaha"),
    "manado": ("Manado", "Bitung", "Tomohon", "Kotamobagu", "Tondano"),
    "sumbar": ("Padang", "Bukittinggi", "Payakumbuh", "Solok", "Pariaman"),
    "sumsel": ("Palembang", "Prabumulih", "Lubuklinggau", "Baturaja", "Lahat"),
    "sumut": ("Medan", "Pematangsiantar", "Binjai", "Sibolga", "Tebing Tinggi"),
    "jogja": ("Yogyakarta", "Sleman", "Bantul", "Wonosari", "Wates"),
}

#: Short name used in headlines ("Pemprov Kalteng"), where the slug does not read as one.
SHORT_NAMES: dict[str, str] = {
    "ambon": "Maluku", "makassar": "Sulsel", "manado": "Sulut", "mataram": "NTB", "kupang": "NTT",
    "jogja": "DIY", "megapolitan": "DKI", "kl": "Malaysia", "papuabarat": "Papua Barat",
    "papuatengah": "Papua Tengah", "babel": "Babel", "kepri": "Kepri",
}  # fmt: skip

#: Region name used in body text and site names, where the registry name has notes in it.
DISPLAY_NAMES: dict[str, str] = {
    "ambon": "Maluku", "makassar": "Sulawesi Selatan", "megapolitan": "DKI Jakarta",
    "kl": "Malaysia", "nasional": "Indonesia",
}  # fmt: skip

#: Site names as printed in <title> suffixes and copyright lines of the old template.
SITE_NAMES: dict[str, str] = {
    "ambon": "ANTARA News Ambon", "makassar": "ANTARA News Makassar", "manado": "ANTARA News Manado",
    "mataram": "ANTARA News Mataram", "kupang": "ANTARA News Kupang", "jogja": "ANTARA News Yogyakarta",
    "megapolitan": "ANTARA News Megapolitan", "kl": "ANTARA News Kuala Lumpur", "nasional": "ANTARA News",
}  # fmt: skip

# Headline subject and its long body form; {R} short region, {RN} region name, {C} city, {P} a person.
REGIONAL_SUBJECTS: tuple[tuple[str, str], ...] = (
    ("Pemprov {R}", "Pemerintah Provinsi {RN} melalui Sekretaris Daerah {P}"),
    ("Wagub {R}", "Wakil Gubernur {RN} {P}"),
    ("Gubernur {R}", "Gubernur {RN} {P}"),
    ("Sekda {R}", "Sekretaris Daerah {RN} {P}"),
    ("DPRD {R}", "Ketua DPRD {RN} {P}"),
    ("Polda {R}", "Kapolda {RN} Irjen Pol {P}"),
    ("Kejati {R}", "Kepala Kejaksaan Tinggi {RN} {P}"),
    ("BI {R}", "Kepala Perwakilan Bank Indonesia {RN} {P}"),
    ("OJK {R}", "Kepala OJK {RN} {P}"),
    ("BPS {R}", "Kepala BPS {RN} {P}"),
    ("Dinkes {R}", "Kepala Dinas Kesehatan {RN} {P}"),
    ("Disdik {R}", "Kepala Dinas Pendidikan {RN} {P}"),
    ("Dishub {R}", "Kepala Dinas Perhubungan {RN} {P}"),
    ("Disperindag {R}", "Kepala Dinas Perindustrian dan Perdagangan {RN} {P}"),
    ("Distan {R}", "Kepala Dinas Pertanian {RN} {P}"),
    ("Dispar {R}", "Kepala Dinas Pariwisata {RN} {P}"),
    ("DLH {R}", "Kepala Dinas Lingkungan Hidup {RN} {P}"),
    ("Bapenda {R}", "Kepala Badan Pendapatan Daerah {RN} {P}"),
    ("BPBD {R}", "Kepala Pelaksana BPBD {RN} {P}"),
    ("KPU {R}", "Ketua KPU {RN} {P}"),
    ("Bawaslu {R}", "Ketua Bawaslu {RN} {P}"),
    ("Kemenag {R}", "Kepala Kantor Wilayah Kementerian Agama {RN} {P}"),
    ("BKSDA {R}", "Kepala BKSDA {RN} {P}"),
    ("Bulog {R}", "Pimpinan Wilayah Perum Bulog {RN} {P}"),
    ("PLN {R}", "General Manager PLN Unit Induk Distribusi {RN} {P}"),
    ("Korem {C}", "Komandan Korem {C} Kolonel Inf {P}"),
    ("Polres {C}", "Kapolres {C} AKBP {P}"),
    ("Pemkot {C}", "Wali Kota {C} {P}"),
    ("Wali Kota {C}", "Wali Kota {C} {P}"),
    ("BPBD {C}", "Kepala BPBD {C} {P}"),
    ("Basarnas {C}", "Kepala Kantor SAR {C} {P}"),
    ("BNN {R}", "Kepala BNN Provinsi {RN} {P}"),
    ("Dinsos {R}", "Kepala Dinas Sosial {RN} {P}"),
    ("Bappeda {R}", "Kepala Bappeda {RN} {P}"),
    ("Dispora {R}", "Kepala Dinas Pemuda dan Olahraga {RN} {P}"),
    ("Disnakertrans {R}", "Kepala Dinas Tenaga Kerja dan Transmigrasi {RN} {P}"),
)

NATIONAL_SUBJECTS: tuple[tuple[str, str], ...] = (
    ("Menkeu", "Menteri Keuangan {P}"),
    ("Mendagri", "Menteri Dalam Negeri {P}"),
    ("Menkes", "Menteri Kesehatan {P}"),
    ("Mentan", "Menteri Pertanian {P}"),
    ("Menhub", "Menteri Perhubungan {P}"),
    ("Menpora", "Menteri Pemuda dan Olahraga {P}"),
    ("Mensos", "Menteri Sosial {P}"),
    ("Menparekraf", "Menteri Pariwisata {P}"),
    ("Mendikdasmen", "Menteri Pendidikan Dasar dan Menengah {P}"),
    ("Menaker", "Menteri Ketenagakerjaan {P}"),
    ("KPK", "Juru bicara KPK {P}"),
    ("Polri", "Kepala Divisi Humas Polri Irjen Pol {P}"),
    ("Kejagung", "Kepala Pusat Penerangan Hukum Kejaksaan Agung {P}"),
    ("BI", "Deputi Gubernur Bank Indonesia {P}"),
    ("OJK", "Kepala Eksekutif Pengawas Perbankan OJK {P}"),
    ("BPS", "Kepala BPS {P}"),
    ("BMKG", "Kepala BMKG {P}"),
    ("BNPB", "Kepala BNPB {P}"),
    ("DPR", "Ketua Komisi DPR RI {P}"),
    ("DPD", "Ketua DPD RI {P}"),
    ("KPU", "Ketua KPU RI {P}"),
    ("Bawaslu", "Ketua Bawaslu RI {P}"),
    ("Kemenlu", "Juru bicara Kementerian Luar Negeri {P}"),
    ("Kemenag", "Direktur Jenderal Kementerian Agama {P}"),
    ("Kementerian PU", "Menteri Pekerjaan Umum {P}"),
    ("Basarnas", "Kepala Basarnas Marsdya TNI {P}"),
    ("TNI", "Kepala Pusat Penerangan TNI Mayjen TNI {P}"),
    ("Bulog", "Direktur Utama Perum Bulog {P}"),
    ("Pertamina", "Direktur Utama PT Pertamina {P}"),
    ("PLN", "Direktur Utama PT PLN {P}"),
    ("BPOM", "Kepala BPOM {P}"),
    ("Komnas HAM", "Ketua Komnas HAM {P}"),
    ("KBRI", "Duta Besar RI {P}"),
    ("Kemendag", "Menteri Perdagangan {P}"),
    ("Kemenperin", "Menteri Perindustrian {P}"),
    ("BKKBN", "Kepala BKKBN {P}"),
)

#: Headline verb and the body verb it stands for.
VERBS: tuple[tuple[str, str], ...] = (
    ("dorong", "mendorong"), ("tingkatkan", "meningkatkan"), ("perkuat", "memperkuat"),
    ("gelar", "menggelar"), ("siapkan", "menyiapkan"), ("salurkan", "menyalurkan"),
    ("bahas", "membahas"), ("targetkan", "menargetkan"), ("percepat", "mempercepat"),
    ("awasi", "mengawasi"), ("evaluasi", "mengevaluasi"), ("resmikan", "meresmikan"),
    ("luncurkan", "meluncurkan"), ("tinjau", "meninjau"), ("pastikan", "memastikan"),
    ("genjot", "menggenjot"), ("optimalkan", "mengoptimalkan"), ("dukung", "mendukung"),
    ("kawal", "mengawal"), ("perluas", "memperluas"), ("sosialisasikan", "menyosialisasikan"),
    ("prioritaskan", "memprioritaskan"), ("benahi", "membenahi"), ("anggarkan", "menganggarkan"),
    ("kebut", "mengebut"), ("pantau", "memantau"), ("apresiasi", "mengapresiasi"), ("matangkan", "mematangkan"),
)  # fmt: skip

OBJECTS: tuple[str, ...] = (
    "kerja sama antardaerah", "penanganan inflasi", "pembangunan jalan desa", "layanan kesehatan ibu dan anak",
    "program makan bergizi gratis", "penyaluran bantuan sosial", "pengendalian kebakaran hutan dan lahan",
    "digitalisasi UMKM", "produksi padi", "vaksinasi ternak", "pengamanan arus mudik", "penertiban tambang ilegal",
    "pencegahan stunting", "pelayanan administrasi kependudukan", "rehabilitasi sekolah rusak", "penanganan banjir",
    "ketahanan pangan", "investasi sektor pariwisata", "kesejahteraan guru honorer", "pelestarian budaya daerah",
    "pengawasan pemilu", "pemberantasan narkoba", "sertifikasi tanah warga", "penyediaan air bersih",
    "pembinaan atlet muda", "promosi produk lokal", "penurunan angka kemiskinan", "pengelolaan sampah",
    "literasi keuangan", "perlindungan pekerja migran", "layanan transportasi umum", "stabilitas harga bahan pokok",
    "penerimaan pajak daerah", "restorasi mangrove", "pemulihan ekonomi nelayan", "jaringan internet desa",
    "pengembangan energi terbarukan", "perbaikan irigasi", "pelayanan jemaah haji", "keselamatan pelayaran",
    "penanganan tuberkulosis", "pencegahan demam berdarah", "kepesertaan BPJS Kesehatan", "penyaluran KUR",
    "ekspor komoditas unggulan", "pengembangan pelabuhan", "kesiapsiagaan bencana", "pembangunan rumah layak huni",
    "pengembangan desa wisata", "pemberdayaan perempuan", "pendidikan vokasi", "pelayanan publik",
    "penegakan hukum lingkungan", "pasar murah", "cadangan beras pemerintah", "perlindungan anak",
    "operasi pasar", "penataan kawasan kumuh", "hilirisasi perkebunan", "keamanan siber",
)  # fmt: skip

LEAD_TAILS: tuple[str, ...] = (
    "guna meningkatkan kesejahteraan masyarakat",
    "dalam rangka mendukung program pembangunan daerah",
    "agar manfaatnya dapat dirasakan langsung oleh warga",
    "di wilayah setempat",
    "sebagai bagian dari program prioritas tahun ini",
    "seiring meningkatnya kebutuhan masyarakat",
    "menjelang akhir tahun anggaran {year}",
    "bersama pemerintah kabupaten dan kota",
)

QUOTES: tuple[str, ...] = (
    "Kami berharap {obj} dapat berjalan lebih cepat dan tepat sasaran sehingga manfaatnya dirasakan masyarakat",
    "Ini merupakan komitmen bersama seluruh pemangku kepentingan, bukan hanya tugas pemerintah",
    "Kami terus berkoordinasi dengan pemerintah kabupaten dan kota agar tidak ada warga yang tertinggal",
    "Target kami tahun ini cukup realistis dan kami optimistis dapat tercapai",
    "Sinergi antarinstansi menjadi kunci keberhasilan program ini",
    "Kami mengajak seluruh lapisan masyarakat untuk ikut mengawasi pelaksanaannya di lapangan",
    "Anggaran sudah tersedia, tinggal bagaimana pelaksanaannya bisa lebih cepat dan transparan",
    "Kami tidak ingin program yang baik ini berhenti hanya sebagai seremoni",
    "Masyarakat tidak perlu khawatir karena stok dan distribusi dalam kondisi aman",
    "Evaluasi kami lakukan setiap bulan supaya kendala di lapangan cepat teratasi",
)

SAID: tuple[str, ...] = ("katanya", "ujarnya", "jelasnya", "tuturnya", "ucapnya", "kata dia")

EVENTS: tuple[str, ...] = (
    "rapat koordinasi", "kunjungan kerja", "rapat kerja daerah", "peluncuran program", "diskusi publik",
    "apel pagi", "rapat paripurna", "kegiatan sosialisasi", "peninjauan lapangan", "rapat evaluasi",
)  # fmt: skip

ORGS: tuple[str, ...] = (
    "Badan Pusat Statistik", "dinas terkait", "pemerintah daerah", "Bank Indonesia", "BPJS Kesehatan",
    "Kementerian Sosial", "Badan Pangan Nasional", "Dinas Kependudukan dan Pencatatan Sipil",
)  # fmt: skip

#: Body sentences; slots are filled per article.
SENTENCES: tuple[str, ...] = (
    '"{quote}," {said} di {city}, {day}.',
    "Hal itu disampaikan {person} di sela {event} di {city}, {day}.",
    "Ia menjelaskan, sepanjang {year} pihaknya telah mengalokasikan anggaran sekitar Rp{money} miliar untuk "
    "mendukung {obj2}.",
    "Menurut dia, capaian tersebut meningkat {pct} persen dibandingkan periode yang sama tahun lalu.",
    "Sementara itu, {who2} menambahkan bahwa pihaknya siap berkoordinasi dengan berbagai instansi agar {obj} "
    "berjalan sesuai rencana.",
    "Adapun kegiatan tersebut melibatkan {count} peserta dari {k} kabupaten dan kota di {RN}.",
    "Lebih lanjut {person} mengatakan, {obj2} merupakan salah satu prioritas pembangunan dalam lima tahun ke depan.",
    "Pihaknya juga mengimbau masyarakat untuk aktif melaporkan apabila menemukan kendala di lapangan.",
    "Berdasarkan data {org}, jumlah penerima manfaat program tersebut mencapai {big} orang hingga akhir {month}.",
    "Ia menambahkan, evaluasi akan dilakukan secara berkala setiap tiga bulan untuk memastikan target yang telah "
    "ditetapkan dapat tercapai.",
    "Kegiatan itu turut dihadiri unsur forum koordinasi pimpinan daerah, tokoh agama, tokoh masyarakat dan "
    "perwakilan organisasi kepemudaan.",
    "Dengan adanya program ini, diharapkan kesejahteraan masyarakat, khususnya di wilayah pedesaan, dapat terus "
    "meningkat.",
    "Selain itu, pihaknya menyiapkan langkah antisipasi apabila terjadi lonjakan kebutuhan menjelang libur Natal "
    "dan Tahun Baru.",
    "Menanggapi hal tersebut, sejumlah warga menyambut baik langkah yang diambil pemerintah.",
    "{resident}, salah seorang warga {city}, mengaku terbantu dengan adanya program tersebut.",
    "Menurut {person}, keberhasilan program tidak lepas dari dukungan masyarakat dan dunia usaha.",
    "Pada tahap awal, program tersebut akan menyasar {k} kecamatan yang dinilai paling membutuhkan.",
    "Data terakhir menunjukkan sekitar {pct} persen sasaran telah terlayani hingga pekan lalu.",
)

CATEGORIES: tuple[str, ...] = ("Umum", "Umum", "Ekonomi", "Ekonomi", "Politik", "Hukum", "Olahraga", "Humaniora")

TAGS: tuple[str, ...] = (
    "inflasi", "stunting", "banjir", "karhutla", "pilkada", "umkm", "pariwisata", "pendidikan", "kesehatan",
    "narkoba", "bansos", "infrastruktur", "pertanian", "perikanan", "investasi", "pajak daerah", "air bersih",
    "jalan rusak", "bencana alam", "mudik", "natal dan tahun baru", "harga beras", "bbm", "listrik", "pemilu",
    "korupsi", "sepak bola", "pon", "makan bergizi gratis", "kemiskinan", "ketahanan pangan", "lingkungan hidup",
    "sampah", "mangrove", "nelayan", "petani", "guru honorer", "asn", "vaksinasi", "demam berdarah",
    "tuberkulosis", "bpjs kesehatan", "kur", "ekspor", "pelabuhan", "bandara", "kereta api", "transportasi",
    "cuaca ekstrem", "gempa", "budaya", "festival", "hut ri", "ramadhan", "haji", "zakat", "perbankan",
    "digitalisasi", "desa wisata", "perlindungan anak",
)  # fmt: skip

FIRST_NAMES: tuple[str, ...] = (
    "Ahmad", "Budi", "Citra", "Dewi", "Eko", "Fajar", "Gita", "Hendra", "Indah", "Joko", "Kurniawan", "Lestari",
    "Muhammad", "Nur", "Oktaviani", "Putri", "Rahmat", "Sri", "Teguh", "Utami", "Wahyu", "Yusuf", "Zainal",
    "Agus", "Bambang", "Dian", "Fitri", "Hadi", "Irwan", "Maya", "Rudi", "Siti", "Taufik", "Andi", "Rina", "Arif",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Pratama", "Santoso", "Hidayat", "Saputra", "Wibowo", "Anggraini", "Nugroho", "Siregar", "Harahap", "Rahman",
    "Setiawan", "Kurnia", "Wijaya", "Hasibuan", "Manurung", "Syahputra", "Fauzi", "Maulana", "Rangkuti",
    "Sembiring", "Tanjung", "Purnomo", "Susanto", "Hakim", "Ramadhan", "Firmansyah", "Gunawan", "Kusuma",
    "Halim", "Sinaga",
)  # fmt: skip

#: Captions of the lead image, before the photo credit.
CAPTIONS: tuple[str, ...] = (
    "{who} memberikan keterangan kepada wartawan di {city}, {day} ({date}).",
    "Suasana {event} di {city}, {day} ({date}).",
    "{who} saat {event} di {city}, {day} ({date}).",
    "Warga mengikuti {event} di {city}, {day} ({date}).",
)

#: Non-article teasers interleaved on list pages: (path kind, label).
MEDIA_KINDS: tuple[tuple[str, str], ...] = (("foto", "Foto"), ("video", "Video"), ("infografis", "Infografis"))

AI_NOTICE = (
    "Dilarang keras mengambil konten, melakukan crawling atau pengindeksan otomatis untuk AI di situs web ini "
    "tanpa izin tertulis dari Kantor Berita ANTARA."
)

#: Paragraph appended to an article each time it is corrected after publication.
CORRECTION = "Berita ini telah diperbarui (ralat ke-{n}) untuk melengkapi keterangan narasumber."

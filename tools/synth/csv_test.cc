#include "tools/synth/csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "libs/testing/status_matchers.h"
#include "tools/synth/synth.h"

namespace jaring::synth {
namespace {

using ::jaring::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

std::vector<CsvFamily> ReadAll(const std::string& text, std::vector<CsvRowError>* errors,
                               CsvReaderOptions options = {}) {
  std::istringstream in(text);
  RegistryCsvReader reader(&in, options);
  std::vector<CsvFamily> out;
  for (;;) {
    auto next = reader.Next(errors);
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok() || !next->has_value()) break;
    out.push_back(std::move(**next));
  }
  return out;
}

TEST(RegistryCsvTest, RoundTripsSynthRegistry) {
  SynthOptions opt;
  opt.regions = {"52.71", "52.03"};
  opt.families = 300;
  opt.months = 0;
  opt.seed = 11;
  opt.anomalies = 3;
  opt.start = DayStart(absl::CivilDay(2026, 1, 1));
  opt.now = DayStart(absl::CivilDay(2026, 11, 1));
  ASSERT_OK_AND_ASSIGN(auto gen, Generator::Create(opt));
  std::vector<v1::RegisterFamilyRequest> original;
  std::ostringstream out;
  RegistryCsvWriter writer(&out);
  ASSERT_OK(gen->Registry([&](const v1::RegisterFamilyRequest& r) {
    original.push_back(r);
    writer.Write(r);
    return absl::OkStatus();
  }));
  ASSERT_GT(original.size(), 300u);

  std::vector<CsvRowError> errors;
  CsvReaderOptions ropt;
  ropt.actor = "synth";
  std::vector<CsvFamily> read = ReadAll(out.str(), &errors, ropt);
  EXPECT_TRUE(errors.empty()) << errors.front().line << ": " << errors.front().message;
  ASSERT_EQ(read.size(), original.size());
  int64_t line = 2;
  for (size_t i = 0; i < read.size(); ++i) {
    std::string diff;
    google::protobuf::util::MessageDifferencer d;
    d.ReportDifferencesToString(&diff);
    EXPECT_TRUE(d.Compare(original[i], read[i].request)) << "family " << i << ": " << diff;
    EXPECT_EQ(read[i].line, line);
    line += read[i].rows;
  }
}

TEST(RegistryCsvTest, QuotesFieldsPerRfc4180) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("Jl. Mawar No. 1, RT 001"), "\"Jl. Mawar No. 1, RT 001\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
}

const std::string kHeader = std::string(kCsvHeader) + "\n";

TEST(RegistryCsvTest, ReadsQuotedMultilineFieldsAndCrlf) {
  std::string text = kHeader +
                     "5271010101100001,52.71.01.1001,\"Jl. Mawar, No. 1\nBlok \"\"A\"\"\",5271011505850001,"
                     "\"Budi, S.Pd\",L,1985-05-15,KEPALA_KELUARGA,,TIDAK,TIDAK_SEKOLAH,N,N,,2010-01-01,2026-01-01\r\n"
                     "5271010101100001,52.71.01.1001,\"Jl. Mawar, No. 1\nBlok \"\"A\"\"\",5271015505870001,Siti,P,"
                     "1987-05-15,ISTRI,,,,,Y,2,2010-01-01,2026-01-01\r\n";
  std::vector<CsvRowError> errors;
  std::vector<CsvFamily> read = ReadAll(text, &errors);
  ASSERT_TRUE(errors.empty()) << errors.front().message;
  ASSERT_EQ(read.size(), 1u);
  const v1::FamilyRegistered& f = read[0].request.family();
  EXPECT_EQ(f.address(), "Jl. Mawar, No. 1\nBlok \"A\"");
  EXPECT_EQ(f.head_nik(), "5271011505850001");
  ASSERT_EQ(f.members_size(), 2);
  EXPECT_EQ(f.members(0).full_name(), "Budi, S.Pd");
  EXPECT_EQ(f.members(1).relationship(), v1::RELATIONSHIP_SPOUSE);
  EXPECT_FALSE(f.members(1).attributes().has_disability());
  EXPECT_TRUE(f.members(1).attributes().pregnant());
  EXPECT_EQ(f.members(1).attributes().pregnancy_order(), 2);
  EXPECT_EQ(read[0].line, 2);
  EXPECT_EQ(read[0].request.context().source(), v1::SOURCE_DUKCAPIL);
}

TEST(RegistryCsvTest, ReportsMalformedRowsWithLineNumbersAndContinues) {
  std::string good_a =
      "5271010101100001,52.71.01.1001,Jl. A,5271011505850001,Budi,L,1985-05-15,KEPALA_KELUARGA,,TIDAK,"
      "TIDAK_SEKOLAH,N,N,,2010-01-01,2026-01-01\n";
  std::string bad_b =
      "5271010101100002,52.71.01.1001,Jl. B,5271011505850002,Agus,L,1985-13-15,KEPALA_KELUARGA,,TIDAK,"
      "TIDAK_SEKOLAH,N,N,,2010-01-01,2026-01-01\n"  // line 3: bad date
      "5271010101100002,52.71.01.1001,Jl. B,5271015505870002,Sri,P,1987-05-15,NENEK,,TIDAK,"
      "TIDAK_SEKOLAH,N,N,,2010-01-01,2026-01-01\n"  // line 4: unknown enum
      "5271010101100002,52.71.01.1001,Jl. B,5271015505870003\n";  // line 5: missing columns
  std::string no_head =
      "5271010101100003,52.71.01.1001,Jl. C,5271011505850004,Dedi,L,1985-05-15,ANAK,,TIDAK,"
      "TIDAK_SEKOLAH,N,N,,2010-01-01,2026-01-01\n";  // line 6: family without head
  std::string good_d =
      "5271010101100004,52.71.01.1001,Jl. D,5271011505850005,Eko,L,1985-05-15,KEPALA_KELUARGA,,BERAT,"
      "TIDAK_SEKOLAH,N,N,,2010-01-01,\n";  // line 7
  std::string text = kHeader + good_a + bad_b + no_head + good_d;
  std::vector<CsvRowError> errors;
  std::vector<CsvFamily> read = ReadAll(text, &errors);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].request.family().kk_number(), "5271010101100001");
  EXPECT_EQ(read[1].request.family().kk_number(), "5271010101100004");
  EXPECT_EQ(read[1].line, 7);
  EXPECT_FALSE(read[1].request.context().has_recorded_at());
  EXPECT_THAT(errors, ElementsAre(Field(&CsvRowError::line, 3), Field(&CsvRowError::line, 4),
                                  Field(&CsvRowError::line, 5), Field(&CsvRowError::line, 6)));
  EXPECT_THAT(errors[0].message, HasSubstr("birth_date"));
  EXPECT_THAT(errors[1].message, HasSubstr("relationship: unknown value \"NENEK\""));
  EXPECT_THAT(errors[2].message, HasSubstr("expected 16 columns, got 4"));
  EXPECT_THAT(errors[3].message, HasSubstr("no KEPALA_KELUARGA"));
}

TEST(RegistryCsvTest, RejectsNonConsecutiveKk) {
  std::string a =
      "5271010101100001,52.71.01.1001,Jl. A,5271011505850001,Budi,L,1985-05-15,KEPALA_KELUARGA,,TIDAK,"
      "TIDAK_SEKOLAH,N,N,,2010-01-01,2026-01-01\n";
  std::string b =
      "5271010101100002,52.71.01.1001,Jl. B,5271011505850002,Agus,L,1985-05-15,KEPALA_KELUARGA,,TIDAK,"
      "TIDAK_SEKOLAH,N,N,,2010-01-01,2026-01-01\n";
  std::vector<CsvRowError> errors;
  std::vector<CsvFamily> read = ReadAll(kHeader + a + b + a, &errors);
  EXPECT_EQ(read.size(), 2u);
  EXPECT_THAT(errors, ElementsAre(Field(&CsvRowError::line, 4)));
}

TEST(RegistryCsvTest, RequestIdDependsOnRowBytesOnly) {
  std::string a =
      "5271010101100001,52.71.01.1001,Jl. A,5271011505850001,Budi,L,1985-05-15,KEPALA_KELUARGA,,TIDAK,"
      "TIDAK_SEKOLAH,N,N,,2010-01-01,2026-01-01\n";
  std::string b =
      "5271010101100002,52.71.01.1001,Jl. B,5271011505850002,Agus,L,1985-05-15,KEPALA_KELUARGA,,TIDAK,"
      "TIDAK_SEKOLAH,N,N,,2010-01-01,2026-01-01\n";
  std::vector<CsvRowError> errors;
  auto first = ReadAll(kHeader + a + b, &errors);
  auto second = ReadAll(kHeader + b + a, &errors);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(first[0].request.context().request_id(), second[1].request.context().request_id());
  EXPECT_EQ(first[0].request.context().request_id(), ImportRequestId("5271010101100001", a));
  EXPECT_NE(first[0].request.context().request_id(), first[1].request.context().request_id());
}

TEST(RegistryCsvTest, HeaderIsRequired) {
  std::istringstream in("5271010101100001,52.71.01.1001\n");
  RegistryCsvReader reader(&in);
  std::vector<CsvRowError> errors;
  EXPECT_THAT(reader.Next(&errors), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("header")));
  std::istringstream empty("");
  RegistryCsvReader reader2(&empty);
  EXPECT_THAT(reader2.Next(&errors), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RegistryCsvTest, UnclosedQuoteIsDataLoss) {
  std::istringstream in(kHeader + "5271010101100001,\"52.71.01.1001\n");
  RegistryCsvReader reader(&in);
  std::vector<CsvRowError> errors;
  EXPECT_THAT(reader.Next(&errors), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("line 2")));
}

}  // namespace
}  // namespace jaring::synth

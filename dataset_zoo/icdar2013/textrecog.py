# ICDAR 2013 Focused Scene Text, Task 2.3 word recognition (Karatzas et al., 2013).
# Test = the 1015-word benchmark: the official 1095 test crops minus the words with
# non-alphanumeric characters, as published by MMOCR (textrecog_test_1015.json,
# img_path already textrecog_imgs/test/word_N.png). Train = the official training
# crops with MMOCR's train_labels.json. Both JSONs are used as they are (no parser),
# exactly like MMOCR's own zoo config.
# Cache names are prefixed with ic13_ so they cannot collide in a shared cache dir
# (MMOCR caches the 1015 JSON as textrecog_test.json, the same name as CUTE80's).
# Other test variants (not prepared by default):
#   official 1095: https://rrc.cvc.uab.es/downloads/Challenge2_Test_Task3_GT.txt
#     (md5 2634060ed8fe6e7a4a9b8d68785835a1, `word_1.png, "Tiredness"` lines)
#   857 (also drops words shorter than 3 characters):
#     https://download.openmmlab.com/mmocr/data/1.x/recog/icdar_2013/textrecog_test_857.json
#     (md5 3bed3985b0c51a989ad4006f6de8352b)
# `data_root` and `cache_path` are defaults; tools/prepare_dataset.py overrides both.
data_root = 'data/icdar2013'
cache_path = 'data/cache'

train_preparer = dict(
    obtainer=dict(
        type='NaiveDataObtainer',
        cache_path=cache_path,
        files=[
            dict(
                url='https://rrc.cvc.uab.es/downloads/'
                'Challenge2_Training_Task3_Images_GT.zip',
                save_name='ic13_textrecog_train_img_gt.zip',
                md5='6f0dbc823645968030878df7543f40a4',
                content=['image'],
                mapping=[['ic13_textrecog_train_img_gt', 'textrecog_imgs/train']]),
            dict(
                url='https://download.openmmlab.com/mmocr/data/1.x/recog/'
                'icdar_2013/train_labels.json',
                save_name='ic13_train_labels.json',
                md5='008fcd0056e72c4cf3064fb4d1fce81b',
                content=['annotation'],
                mapping=[['ic13_train_labels.json', 'textrecog_train.json']]),
        ]))

test_preparer = dict(
    obtainer=dict(
        type='NaiveDataObtainer',
        cache_path=cache_path,
        files=[
            dict(
                url='https://rrc.cvc.uab.es/downloads/'
                'Challenge2_Test_Task3_Images.zip',
                save_name='ic13_textrecog_test_img.zip',
                md5='3206778eebb3a5c5cc15c249010bf77f',
                content=['image'],
                mapping=[['ic13_textrecog_test_img', 'textrecog_imgs/test']]),
            dict(
                url='https://download.openmmlab.com/mmocr/data/1.x/recog/'
                'icdar_2013/textrecog_test_1015.json',
                save_name='ic13_textrecog_test_1015.json',
                md5='68fdd818f63df8b93dc952478952009a',
                content=['annotation'],
                mapping=[['ic13_textrecog_test_1015.json', 'textrecog_test.json']]),
        ]))

# Leftovers of a re-run (the mapping never overwrites an existing target).
delete = [
    'ic13_textrecog_train_img_gt', 'ic13_textrecog_test_img',
    'ic13_train_labels.json', 'ic13_textrecog_test_1015.json'
]
config_generator = dict(type='TextRecogConfigGenerator')
